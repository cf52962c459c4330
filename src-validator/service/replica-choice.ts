/**
 * Who may compute a task's next replica (docs/PROTOCOL.md, "Who checks whom"). Pure: the store
 * reads the candidates, `leasing.ts` locks the one chosen. Keys cost nothing, so a replica handed
 * to whoever asks next lets two fresh keys leasing back to back vouch for each other's made-up
 * labels; the validator therefore chooses, at random, among the slots this key may fill.
 */
import { isIPv4 } from 'node:net';
import { ipv6Groups, unmapIPv4 } from '../ip-address';
import type { ReplicaCandidate, ReplicaHolder } from '../store/store';

export interface ReplicaRules {
  /** Two keys first seen less than this apart never check each other (they were likely made together). */
  firstSeenApartMs: number;
  /**
   * Two keys leasing from the same network (IPv4 /ipv4Bits, IPv6 /ipv6Bits) never check each
   * other; null: off (every client of a test, or of a validator behind a proxy, is one address).
   */
  networkPrefix: { ipv4Bits: number; ipv6Bits: number } | null;
}

export const DEFAULT_FIRST_SEEN_APART_MS = 10 * 60_000;

/** The key asking for a replica, as eligibility sees it. */
export type ReplicaAsker = ReplicaHolder;

/** The address as bits (IPv4 mapped into IPv6 counts as IPv4); null when it is not an IP address. */
function addressBits(address: string): { family: 4 | 6; bits: bigint } | null {
  const plain = unmapIPv4(address);
  if (isIPv4(plain)) return { family: 4, bits: plain.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n) };
  const groups = ipv6Groups(plain);
  if (!groups) return null;
  return { family: 6, bits: groups.reduce((acc, group) => (acc << 16n) | BigInt(parseInt(group || '0', 16)), 0n) };
}

/** Whether two remote addresses fall in one network of the given prefix lengths. */
export function sameNetwork(a: string, b: string, prefix: { ipv4Bits: number; ipv6Bits: number }): boolean {
  const x = addressBits(a);
  const y = addressBits(b);
  if (!x || !y) return a === b;
  if (x.family !== y.family) return false;
  const width = x.family === 4 ? 32 : 128;
  const shift = BigInt(width - Math.min(width, x.family === 4 ? prefix.ipv4Bits : prefix.ipv6Bits));
  return x.bits >> shift === y.bits >> shift;
}

/**
 * Whether `asker` may compute a replica of a task whose other replicas `holders` hold: a distinct
 * key, first seen apart from each, not from the same network, and established wherever a holder
 * is not (a new key's work is checked only by an established key or by re-computation).
 */
export function mayReplicate(asker: ReplicaAsker, holders: ReplicaHolder[], rules: ReplicaRules): boolean {
  return holders.every(
    (h) =>
      h.miner !== asker.miner &&
      Math.abs(h.firstSeenMs - asker.firstSeenMs) >= rules.firstSeenApartMs &&
      !(
        rules.networkPrefix &&
        h.remoteAddress &&
        asker.remoteAddress &&
        sameNetwork(h.remoteAddress, asker.remoteAddress, rules.networkPrefix)
      ) &&
      (h.established || asker.established),
  );
}

/** The eligible candidates in a random order (the validator's choice, not arrival order). */
export function replicaChoices(
  asker: ReplicaAsker,
  candidates: ReplicaCandidate[],
  rules: ReplicaRules,
  random: () => number,
): ReplicaCandidate[] {
  const eligible = candidates.filter((c) => mayReplicate(asker, c.holders, rules));
  for (let i = eligible.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [eligible[i], eligible[j]] = [eligible[j]!, eligible[i]!];
  }
  return eligible;
}
