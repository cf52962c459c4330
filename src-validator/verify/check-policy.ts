import { MIN_CHECK_PROBABILITY, TRUST_STREAK } from '../config';

/**
 * Adaptive replication as in BOINC: a new or recently failing miner (streak below TRUST_STREAK)
 * is always checked; after that the chance falls as TRUST_STREAK / streak, never below
 * MIN_CHECK_PROBABILITY, so a long honest record buys fewer checks but never none. Since one
 * failed check revokes every unchecked result of the open epoch, laziness stays a losing bet.
 */
export function checkProbability(streak: number): number {
  if (streak < TRUST_STREAK) return 1;
  return Math.max(MIN_CHECK_PROBABILITY, TRUST_STREAK / streak);
}

export function shouldCheck(streak: number, random: () => number): boolean {
  return random() < checkProbability(streak);
}
