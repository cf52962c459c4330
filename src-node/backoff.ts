/**
 * "Full jitter" exponential backoff (AWS Architecture Blog, "Exponential Backoff and Jitter",
 * 2015): the wait is uniform in [floor, min(cap, base·2^attempt)], so thousands of miners that
 * lost the validator at the same moment do not come back in lock step. The small floor keeps a
 * draw near zero from turning into an immediate retry storm.
 */
export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
  floorMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1000, capMs: 60_000, floorMs: 250 };

/** `attempt` counts failures in a row, from 0 for the first. `random` returns [0, 1). */
export function backoffDelayMs(attempt: number, random: () => number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(attempt, 30));
  const floor = Math.min(policy.floorMs, ceiling);
  return Math.round(floor + random() * (ceiling - floor));
}
