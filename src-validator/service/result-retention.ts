import { lastSettledEpoch } from '../accounting/earnings';
import type { KeptBody } from '../store/store';
import type { ValidatorContext } from './context';

/**
 * How long result bodies are kept once no check needs them. The ledger, totals and credit stay
 * whatever is pruned; only the soft labels go. Bodies of validated results are the open data set
 * (`nya validator export`), so a validator keeps them unless told otherwise; rejected bodies and
 * the second copy of an agreed result are freed as soon as they are decided, whatever this says.
 */
export interface ResultRetention {
  /** Free bodies of results submitted longer ago than this; null: keep them. */
  keepDays: number | null;
  /** Keep at most this many bytes of such bodies, the newest; null: no cap. */
  keepBytes: number | null;
  /**
   * Also delete the rows of settled tasks whose bodies are gone (`Store.forgetSettledTasks`): the
   * embedded validator, whose ledger is a local test; a real one keeps them as its record.
   */
  forgetTasks?: boolean;
}

export const KEEP_ALL_RESULTS: ResultRetention = { keepDays: null, keepBytes: null };

/**
 * The embedded validator of `nya mine`: its labels come from the demo model or the user's own
 * teacher and are no data set, but a miner left running wrote ~0.8 GB an hour. 256 MiB is a few
 * minutes of demo mining at 2,000 tok/s (docs/PERFORMANCE.md, "Result bodies on disk").
 */
export const LOCAL_RESULT_RETENTION: ResultRetention = { keepDays: null, keepBytes: 256 * 1024 * 1024, forgetTasks: true };

/** At most this many bodies are looked at per run for the size cap, newest first (a cap keeps the set small). */
const MAX_BODIES_WALKED = 100_000;
const PRUNE_BATCH = 200;
const DAY_MS = 86_400_000;

export interface PruneReport {
  bodies: number;
  bytes: number;
  /** Settled tasks whose rows were deleted (`forgetTasks`). */
  tasks: number;
}

/** Frees the bodies past `retention` that no check needs; safe beside leasing and submissions. */
export async function pruneResultBodies(ctx: ValidatorContext, retention: ResultRetention): Promise<PruneReport> {
  const now = ctx.clock();
  const settledEpoch = lastSettledEpoch(now, ctx.settings.epochMs, ctx.settings.settleEpochs);
  const report: PruneReport = { bodies: 0, bytes: 0, tasks: 0 };
  if (retention.keepDays !== null) {
    const submittedBeforeMs = now - retention.keepDays * DAY_MS;
    for (;;) {
      const old = await ctx.store.prunableResultBodies({ settledEpoch, submittedBeforeMs, limit: PRUNE_BATCH });
      const freed = await prune(ctx, old, settledEpoch, report);
      // Whatever could not be freed now (a revocation won the race) is left for the next run.
      if (old.length < PRUNE_BATCH || freed === 0) break;
    }
  }
  if (retention.keepBytes !== null) {
    const kept = await ctx.store.prunableResultBodies({ settledEpoch, submittedBeforeMs: null, limit: MAX_BODIES_WALKED });
    await prune(ctx, overCap(kept, retention.keepBytes), settledEpoch, report);
  }
  if (retention.forgetTasks) {
    for (;;) {
      const forgotten = await ctx.store.transaction((tx) => tx.forgetSettledTasks({ settledEpoch, limit: PRUNE_BATCH }));
      report.tasks += forgotten;
      if (forgotten < PRUNE_BATCH) break;
    }
  }
  return report;
}

/** The bodies past the newest `capBytes` (the list is newest first). */
function overCap(newestFirst: KeptBody[], capBytes: number): KeptBody[] {
  let total = 0;
  const index = newestFirst.findIndex((b) => (total += b.bytes) > capBytes);
  return index === -1 ? [] : newestFirst.slice(index);
}

async function prune(ctx: ValidatorContext, bodies: KeptBody[], settledEpoch: number, report: PruneReport): Promise<number> {
  let freed = 0;
  for (let i = 0; i < bodies.length; i += PRUNE_BATCH) {
    const batch = bodies.slice(i, i + PRUNE_BATCH);
    const done = await ctx.store.transaction(async (tx) => {
      const out: KeptBody[] = [];
      for (const b of batch) if (await tx.pruneResultBody(b.taskId, b.miner, settledEpoch)) out.push(b);
      return out;
    });
    freed += done.length;
    report.bodies += done.length;
    report.bytes += done.reduce((sum, b) => sum + b.bytes, 0);
  }
  return freed;
}
