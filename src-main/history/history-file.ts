import { z } from 'zod';
import { HISTORY_METRICS } from '../../src-shared/ipc';
import type { HistoryRange } from '../../src-shared/ipc';
import { RANGE_NAMES, type HistoryTier } from './history-tiers';

/**
 * history.json: each tier's closed points as rows `[tMs, ...values]` (HISTORY_METRICS order,
 * written into the file so a reordering is caught) and its open bucket, so a restart mid-hour
 * does not lose the hour's partial average.
 */
const nullableNumber = z.number().nullable();
const width = HISTORY_METRICS.length;

const OpenBucketJson = z.object({
  startMs: z.number(),
  sums: z.array(z.number()).length(width),
  counts: z.array(z.number().int().nonnegative()).length(width),
  lasts: z.array(nullableNumber).length(width),
});

const TierJson = z.object({
  points: z.array(
    z
      .tuple([z.number()])
      .rest(nullableNumber)
      .refine((row) => row.length === width + 1, 'wrong row width'),
  ),
  open: OpenBucketJson.nullable(),
});

const HistoryFileJson = z.object({
  version: z.literal(1),
  metrics: z.array(z.string()).refine((names) => names.join() === HISTORY_METRICS.join(), 'metric list differs'),
  tiers: z.object({ '10m': TierJson, '24h': TierJson, '30d': TierJson }),
});

export function encodeHistory(tiers: Record<HistoryRange, HistoryTier>): string {
  const json = {
    version: 1,
    metrics: HISTORY_METRICS,
    tiers: Object.fromEntries(RANGE_NAMES.map((range) => [range, { points: tiers[range].points.toArray(), open: tiers[range].open }])),
  };
  return JSON.stringify(json);
}

/** Fills `tiers` from the file's text; throws a sentence naming what is wrong. */
export function decodeHistoryInto(text: string, tiers: Record<HistoryRange, HistoryTier>): void {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new Error(`not JSON (${(error as Error).message})`);
  }
  const parsed = HistoryFileJson.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${issue.path.join('.') || 'file'}: ${issue.message}`);
  }
  for (const range of RANGE_NAMES) {
    const tier = parsed.data.tiers[range];
    for (const point of tier.points) tiers[range].points.push(point as [number, ...(number | null)[]]);
    tiers[range].open = tier.open;
  }
}
