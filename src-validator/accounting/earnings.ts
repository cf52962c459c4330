/** Epoch arithmetic and the conversion of validated tokens into shares, nano amounts and weights. */
export const HOUR_MS = 3_600_000;

export function epochOf(atMs: number, epochMs: number): number {
  return Math.floor(atMs / epochMs);
}

/**
 * Epochs an epoch's credit waits after it closes before its weights are published (docs/PROTOCOL.md,
 * "Settling"): a key caught in the next epoch still loses the unchecked credit of the one before.
 */
export const DEFAULT_SETTLE_EPOCHS = 1;

/** The newest epoch whose credit is final (its end plus the settling delay has passed); may be negative. */
export function lastSettledEpoch(atMs: number, epochMs: number, settleEpochs: number): number {
  return epochOf(atMs, epochMs) - 1 - settleEpochs;
}

export function hourStart(atMs: number): number {
  return Math.floor(atMs / HOUR_MS) * HOUR_MS;
}

/** emission × tokens / total, floored to whole nano (the remainder stays unpaid, never overpaid). */
export function earnedNano(emissionNano: bigint, tokens: number, totalTokens: number): bigint {
  if (tokens <= 0 || totalTokens <= 0) return 0n;
  return (emissionNano * BigInt(Math.round(tokens))) / BigInt(Math.round(totalTokens));
}

export function share(tokens: number, totalTokens: number): number {
  return totalTokens > 0 ? Math.min(1, Math.max(0, tokens / totalTokens)) : 0;
}

/** Commune weights are u16: scale so the largest share is 65535 (as the seed's set_weights input). */
export function u16Weights<T extends { tokens: number }>(entries: T[]): (T & { weight: number })[] {
  const max = entries.reduce((m, e) => Math.max(m, e.tokens), 0);
  return entries.map((e) => ({ ...e, weight: max > 0 ? Math.round((Math.max(0, e.tokens) * 65535) / max) : 0 }));
}
