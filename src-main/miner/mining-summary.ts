import { NANO_PER_COMAI, type StateSnapshot } from '../../src-shared/state';
import type { Logger } from '../../src-node/log';
import { plural } from '../../src-shared/plural';

/** The figures one summary line compares with the previous one. */
interface SummaryFigures {
  atMs: number;
  computedTokens: number;
  tasksCompleted: number;
  validatedTokens: number;
  earnedNano: string;
  status: StateSnapshot['miner']['status'];
  reason: string;
}

function summaryFigures(s: StateSnapshot, atMs: number): SummaryFigures {
  return {
    atMs,
    computedTokens: s.tokens.computed,
    tasksCompleted: s.tokens.tasksCompleted,
    validatedTokens: s.tokens.validated,
    earnedNano: s.earnings.earnedNano,
    status: s.miner.status,
    reason: s.miner.reason,
  };
}

const count = (n: number) => Math.round(n).toLocaleString('en-US');

/**
 * One line for the interval between two readings, as Folding@home and Excavator print: the
 * speed is the tokens labelled in the interval over its length (so a pause reads 0, not the last
 * task's speed), then the running totals.
 */
function summaryLine(prev: SummaryFigures, now: SummaryFigures): string {
  const seconds = Math.max(1, (now.atMs - prev.atMs) / 1000);
  const tokens = Math.max(0, now.computedTokens - prev.computedTokens);
  const tasks = Math.max(0, now.tasksCompleted - prev.tasksCompleted);
  const earned = (Number(now.earnedNano) / NANO_PER_COMAI).toFixed(4);
  const state = now.status === 'mining' ? '' : ` · ${now.status}: ${now.reason}`;
  return (
    `last ${Math.round(seconds)} s: ${count(tokens / seconds)} tok/s, ${plural(tasks, 'task')} · ` +
    `validated ${plural(now.validatedTokens, 'token')} · earned ${earned} COMAI${state}`
  );
}

export interface MiningSummaryOptions {
  snapshot: () => StateSnapshot;
  log: Logger;
  intervalMs?: number;
  now?: () => number;
}

/** Logs `summaryLine` every minute (per-task detail stays at debug level). */
export class MiningSummary {
  private timer: ReturnType<typeof setInterval> | null = null;
  private last: SummaryFigures | null = null;
  private readonly now: () => number;

  constructor(private readonly o: MiningSummaryOptions) {
    this.now = o.now ?? Date.now;
  }

  start(): void {
    this.last = summaryFigures(this.o.snapshot(), this.now());
    this.timer = setInterval(() => this.tick(), this.o.intervalMs ?? 60_000);
    this.timer.unref?.();
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  tick(): void {
    const current = summaryFigures(this.o.snapshot(), this.now());
    if (this.last) this.o.log.info(summaryLine(this.last, current));
    this.last = current;
  }
}
