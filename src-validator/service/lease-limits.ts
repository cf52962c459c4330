/**
 * What a lease costs a key (docs/PROTOCOL.md, "Lease limits"): a few open leases at a time, more
 * only for a key whose delivered work shows it can finish them; every expired lease is a strike
 * that halves its next task, enough strikes a cool-down, and each delivery forgives one. Pure: the
 * store reads and writes the numbers, `leasing.ts` applies the verdict.
 */
import type { LeaseStanding, OpenLeases } from '../store/store';

export interface LeaseLimits {
  /** Open leases any key may hold. */
  baseOpenLeases: number;
  /** Open leases no key may exceed, however fast it delivers. */
  maxOpenLeases: number;
  strikesToCoolDown: number;
  maxStrikes: number;
  coolDownMs: number;
}

export type LeaseVerdict =
  { kind: 'lease'; sizeScale: number } | { kind: 'refuse'; reason: 'cool-down' | 'open-leases'; retryAfterMs: number };

/**
 * Whether a key may take one more lease now. `deliveredTokens`: tokens of the results it delivered
 * in the last lease period, the validator's own measure of its speed (what it claims in
 * `tokensPerS` only sizes a task); needed only when it already holds `baseOpenLeases`.
 */
export async function leaseVerdict(
  standing: LeaseStanding,
  open: OpenLeases,
  deliveredTokens: () => Promise<number>,
  limits: LeaseLimits,
  nowMs: number,
  retryMs: number,
): Promise<LeaseVerdict> {
  if (nowMs < standing.coolDownUntilMs)
    return { kind: 'refuse', reason: 'cool-down', retryAfterMs: Math.ceil(standing.coolDownUntilMs - nowMs) };
  const lease: LeaseVerdict = { kind: 'lease', sizeScale: 2 ** -standing.strikes };
  const refuse: LeaseVerdict = { kind: 'refuse', reason: 'open-leases', retryAfterMs: retryMs };
  if (open.count >= limits.maxOpenLeases) return refuse;
  if (open.count < limits.baseOpenLeases) return lease;
  // It may hold another only if what it finished in one lease period covers what it holds already.
  return (await deliveredTokens()) > open.tokens ? lease : refuse;
}

/** The standing after `expired` more of a key's leases ran out at `nowMs`. */
export function afterExpiry(standing: LeaseStanding, expired: number, limits: LeaseLimits, nowMs: number): LeaseStanding {
  const strikes = Math.min(limits.maxStrikes, standing.strikes + expired);
  const coolDownUntilMs = strikes >= limits.strikesToCoolDown ? nowMs + limits.coolDownMs : standing.coolDownUntilMs;
  return { strikes, coolDownUntilMs };
}
