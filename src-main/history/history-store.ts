import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomicSync } from '../../src-node/atomic-write';
import { errorMessage, silentLogger, type Logger } from '../../src-node/log';
import { decodeHistoryInto, encodeHistory } from './history-file';
import type { HistoryRange } from '../../src-shared/ipc';
import { HistoryTier, RANGE_NAMES, sampleValues, type HistorySample, type HistorySeries } from './history-tiers';

export interface HistoryStoreOptions {
  /** Usually `<dataDir>/history.json`. */
  file: string;
  now?: () => number;
  saveIntervalMs?: number;
  logger?: Logger;
}

/**
 * The charts' memory: records samples into the three tiers and keeps them on disk (atomically,
 * on an interval and on dispose), so a restart does not blank the dashboard. A file that cannot
 * be read is moved aside — never overwritten — and history starts empty.
 */
export class HistoryStore {
  private tiers = freshTiers();
  private readonly now: () => number;
  private readonly log: Logger;
  private timer: ReturnType<typeof setInterval> | null = null;
  private dirty = false;

  constructor(private readonly opts: HistoryStoreOptions) {
    this.now = opts.now ?? Date.now;
    this.log = opts.logger ?? silentLogger;
  }

  start(): void {
    this.load();
    this.timer = setInterval(() => this.saveIfChanged(), this.opts.saveIntervalMs ?? 60_000);
    this.timer.unref?.();
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.saveIfChanged();
  }

  record(sample: HistorySample, nowMs = this.now()): void {
    const values = sampleValues(sample);
    for (const range of RANGE_NAMES) this.tiers[range].record(values, nowMs);
    this.dirty = true;
  }

  series(range: HistoryRange, nowMs = this.now()): HistorySeries {
    return this.tiers[range].series(nowMs);
  }

  saveIfChanged(): void {
    if (!this.dirty) return;
    try {
      mkdirSync(dirname(this.opts.file), { recursive: true });
      writeFileAtomicSync(this.opts.file, encodeHistory(this.tiers));
      this.dirty = false;
    } catch (error) {
      this.log.warn(`Could not save chart history to ${this.opts.file}: ${errorMessage(error)}`);
    }
  }

  private load(): void {
    const file = this.opts.file;
    if (!existsSync(file)) return;
    const tiers = freshTiers();
    try {
      decodeHistoryInto(readFileSync(file, 'utf8'), tiers);
      this.tiers = tiers;
    } catch (error) {
      const aside = `${file}.corrupt-${this.now()}`;
      renameSync(file, aside);
      this.log.warn(`Chart history ${file} is unreadable (${errorMessage(error)}); moved it to ${aside} and started empty`);
    }
  }
}

function freshTiers(): Record<HistoryRange, HistoryTier> {
  return Object.fromEntries(RANGE_NAMES.map((range) => [range, new HistoryTier(range)])) as Record<HistoryRange, HistoryTier>;
}
