import { HISTORY_METRICS, type HistoryMetric, type HistoryRange } from '../../src-shared/ipc';
import { RingBuffer } from './ring-buffer';

/**
 * The dashboard's time series in three resolutions — a point per second for 10 minutes, per
 * minute for a day, per hour for a month — each a ring of closed buckets plus the bucket still
 * filling. Every sample feeds all three, so each tier is an exact average of raw samples rather
 * than an average of averages. Gauges average within a bucket; counters (running totals) keep
 * the bucket's last value, so "earned per hour" is the difference of two points.
 */
const COUNTERS: ReadonlySet<HistoryMetric> = new Set(['earnedNano', 'validatedTokens']);

/**
 * One reading. earnedNano may come as the snapshot's decimal string; it is kept as a number
 * (exact up to 2^53 nano-COMAI, about 9 million COMAI — plenty for a chart).
 */
export type HistorySample = { [M in HistoryMetric]: M extends 'earnedNano' ? number | string | null : number | null };

const HISTORY_RANGES = {
  '10m': { resolutionMs: 1000, keepMs: 10 * 60_000 },
  '24h': { resolutionMs: 60_000, keepMs: 24 * 3_600_000 },
  '30d': { resolutionMs: 3_600_000, keepMs: 31 * 24 * 3_600_000 },
} as const satisfies Record<HistoryRange, { resolutionMs: number; keepMs: number }>;
export const RANGE_NAMES = Object.keys(HISTORY_RANGES) as HistoryRange[];

export interface HistorySeries {
  range: HistoryRange;
  resolutionMs: number;
  /** Bucket start times, oldest first; gaps where the app was not running. */
  tMs: number[];
  values: Record<HistoryMetric, (number | null)[]>;
}

/** A closed bucket: its start and one value per metric, in HISTORY_METRICS order. */
export type HistoryPoint = [tMs: number, ...values: (number | null)[]];

export interface OpenBucket {
  startMs: number;
  sums: number[];
  counts: number[];
  lasts: (number | null)[];
}

export class HistoryTier {
  readonly points: RingBuffer<HistoryPoint>;
  open: OpenBucket | null = null;

  constructor(readonly range: HistoryRange) {
    const { resolutionMs, keepMs } = HISTORY_RANGES[range];
    this.points = new RingBuffer(keepMs / resolutionMs);
  }

  get resolutionMs(): number {
    return HISTORY_RANGES[this.range].resolutionMs;
  }

  record(values: (number | null)[], nowMs: number): void {
    const startMs = Math.floor(nowMs / this.resolutionMs) * this.resolutionMs;
    // A clock stepping back folds into the open bucket: points stay in time order.
    if (this.open && startMs > this.open.startMs) this.close();
    const open = (this.open ??= emptyBucket(startMs));
    values.forEach((value, i) => {
      if (value === null) return;
      open.sums[i]! += value;
      open.counts[i]! += 1;
      open.lasts[i] = value;
    });
  }

  series(nowMs: number): HistorySeries {
    const oldestMs = nowMs - HISTORY_RANGES[this.range].keepMs;
    const points = this.points.toArray();
    if (this.open) points.push(bucketPoint(this.open));
    const kept = points.filter(([tMs]) => tMs > oldestMs);
    const values = Object.fromEntries(
      HISTORY_METRICS.map((metric, i) => [metric, kept.map((point) => point[i + 1] ?? null)]),
    ) as HistorySeries['values'];
    return { range: this.range, resolutionMs: this.resolutionMs, tMs: kept.map(([tMs]) => tMs), values };
  }

  private close(): void {
    if (this.open) this.points.push(bucketPoint(this.open));
    this.open = null;
  }
}

export function sampleValues(sample: HistorySample): (number | null)[] {
  return HISTORY_METRICS.map((metric) => {
    const value = sample[metric];
    const number = typeof value === 'string' ? (/^-?\d+(?:\.\d+)?$/.test(value) ? Number(value) : null) : value;
    return number !== null && Number.isFinite(number) ? number : null;
  });
}

function bucketPoint(bucket: OpenBucket): HistoryPoint {
  const values = HISTORY_METRICS.map((metric, i) => {
    if (bucket.counts[i] === 0) return null;
    return COUNTERS.has(metric) ? bucket.lasts[i]! : bucket.sums[i]! / bucket.counts[i]!;
  });
  return [bucket.startMs, ...values];
}

function emptyBucket(startMs: number): OpenBucket {
  const n = HISTORY_METRICS.length;
  return { startMs, sums: new Array(n).fill(0), counts: new Array(n).fill(0), lasts: new Array(n).fill(null) };
}
