import { MIN_AUDIT_PREFIX_POSITIONS } from '../config';

/** Positions an audit of a document of `positions` re-computes on average: its prefix length is uniform in [min(positions, MIN), positions]. */
function expectedPrefix(positions: number): number {
  return (Math.min(positions, MIN_AUDIT_PREFIX_POSITIONS) + positions) / 2;
}

export interface AuditOdds {
  /** Share of credited tokens to re-compute (`--audit-share`). */
  share: number;
  /** Positions of each of the task's documents. */
  documentPositions: readonly number[];
  /** Credited tokens of the settled task: its tokens times its validated results. */
  creditedTokens: number;
  /** Audits per key and settling window (`DEFAULT_AUDITS_PER_KEY`). */
  auditsPerKey: number;
  /** For each key credited for the task, its tasks settled in the window so far, this one included. */
  keyTasksInWindow: readonly number[];
}

/**
 * The chance a settled task is audited, and the part of it its credited tokens alone ask for. An
 * audit re-computes one random document's random prefix (expected length `expectedPrefix`), so
 * auditing with probability share × credited / E[prefix] re-computes `share` of the credited
 * tokens on average; the per-key floor keeps every key at `auditsPerKey` expected audits per
 * window however few tasks it settles. The share part is what the operator sizes the teacher for
 * (docs/PROTOCOL.md, "Audits"): when the queue is full, it goes before the floor's.
 */
export function auditChances(o: AuditOdds): { total: number; byShare: number } {
  if (o.share <= 0 || o.documentPositions.length === 0) return { total: 0, byShare: 0 };
  const prefix = o.documentPositions.reduce((s, p) => s + expectedPrefix(p), 0) / o.documentPositions.length;
  const byShare = Math.min(1, (o.share * o.creditedTokens) / prefix);
  const fewest = Math.min(...o.keyTasksInWindow);
  const floor = fewest > 0 ? o.auditsPerKey / fewest : 0;
  return { total: Math.min(1, Math.max(byShare, floor)), byShare };
}

/** Which document, and how many of its first positions, an audit re-computes. */
export function pickAudit(documentPositions: readonly number[], random: () => number): { docIndex: number; prefixPositions: number } {
  const docIndex = Math.floor(random() * documentPositions.length);
  const positions = documentPositions[docIndex]!;
  const shortest = Math.min(positions, MIN_AUDIT_PREFIX_POSITIONS);
  return { docIndex, prefixPositions: shortest + Math.floor(random() * (positions - shortest + 1)) };
}

/**
 * The audit that confirms a near miss: another document of the task where it has more than one
 * (honest jitter's near misses come and go with the document; a cheaper model's labels fail every
 * one), with its own random prefix.
 */
export function pickConfirmation(
  documentPositions: readonly number[],
  failedDocIndex: number,
  random: () => number,
): { docIndex: number; prefixPositions: number } {
  if (documentPositions.length < 2) return pickAudit(documentPositions, random);
  const others = documentPositions.map((_, i) => i).filter((i) => i !== failedDocIndex);
  const docIndex = others[Math.floor(random() * others.length)]!;
  return { docIndex, prefixPositions: pickAudit([documentPositions[docIndex]!], random).prefixPositions };
}
