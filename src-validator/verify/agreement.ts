import { LOGPROB_STEP, MAX_TOKEN_ID_EXCLUSIVE, type SoftLabels } from '../../src-shared/soft-labels';
import {
  AGREEMENT_TOP, BAD_ROW_OVERLAP, MAX_BAD_ROW_FRACTION, MAX_MEAN_ABS_LOGPROB_DIFF, MAX_P99_ABS_LOGPROB_DIFF, MIN_MEAN_OVERLAP,
} from '../config';
import { readRows, type ParsedRecord } from './record-rows';

export interface Agreement {
  positions: number;
  /** Mean over positions and both directions of |top-8(A) ∩ top-k(B)| / 8. */
  meanOverlap: number;
  /** Over ids one side ranks in its top 8 and the other in its top k; Infinity when none are shared. */
  meanAbsLogprobDiff: number;
  p99AbsLogprobDiff: number;
  /** Fraction of positions whose overlap (mean of both directions) is below BAD_ROW_OVERLAP. */
  badRowFraction: number;
  agree: boolean;
  /** Which tolerance failed, for the ledger. */
  reason: string | null;
}

export interface Tolerances {
  minMeanOverlap: number;
  maxMeanAbsLogprobDiff: number;
  maxP99AbsLogprobDiff: number;
  maxBadRowFraction: number;
}

export const DEFAULT_TOLERANCES: Tolerances = {
  minMeanOverlap: MIN_MEAN_OVERLAP,
  maxMeanAbsLogprobDiff: MAX_MEAN_ABS_LOGPROB_DIFF,
  maxP99AbsLogprobDiff: MAX_P99_ABS_LOGPROB_DIFF,
  maxBadRowFraction: MAX_BAD_ROW_FRACTION,
};

const MAX_CODE = 1 << 13;
// Scratch space reused across calls (the validator compares on one thread).
const stampOf = new Int32Array(MAX_TOKEN_ID_EXCLUSIVE);
const rankOf = new Int32Array(MAX_TOKEN_ID_EXCLUSIVE);
const histogram = new Float64Array(MAX_CODE);
let rowOverlap = new Float64Array(1024);
let stamp = 0;

interface Tally {
  overlap: number;
  diffSum: number;
  diffCount: number;
}

/** One direction: A's top-8 looked up in B's top-k, at every position. */
function tallyDirection(a: SoftLabels, b: SoftLabels, tally: Tally): void {
  const k = a.header.k;
  const top = Math.min(AGREEMENT_TOP, k);
  const positions = a.header.positions;
  for (let p = 0, base = 0; p < positions; p++, base += k) {
    if (++stamp === 0x7fffffff) {
      stampOf.fill(0);
      stamp = 1;
    }
    for (let r = 0; r < k; r++) {
      const id = b.topkIds[base + r]!;
      stampOf[id] = stamp;
      rankOf[id] = base + r;
    }
    let shared = 0;
    for (let r = 0; r < top; r++) {
      const id = a.topkIds[base + r]!;
      if (stampOf[id] !== stamp) continue;
      shared++;
      const code = Math.round(Math.abs(a.topkLogprobs[base + r]! - b.topkLogprobs[rankOf[id]!]!) / LOGPROB_STEP);
      histogram[code < MAX_CODE ? code : MAX_CODE - 1]!++;
      tally.diffSum += code;
      tally.diffCount++;
    }
    tally.overlap += shared / top;
    rowOverlap[p] = rowOverlap[p]! + shared / top / 2;
  }
}

/**
 * How closely two labelings of the same document agree. Looking A's top 8 up in B's whole top k
 * (and the reverse) makes near-ties that swap ranks 8 and 9 harmless; comparing log-probs only on
 * shared ids keeps the measure defined when the sets differ. Both inputs come out of the codec,
 * so differences are whole quantisation steps and the p99 is read from a histogram, no sort.
 */
export function compareLabels(a: SoftLabels, b: SoftLabels, tol: Tolerances = DEFAULT_TOLERANCES): Agreement {
  const positions = a.header.positions;
  if (positions !== b.header.positions || a.header.k !== b.header.k) {
    return { positions, meanOverlap: 0, meanAbsLogprobDiff: Infinity, p99AbsLogprobDiff: Infinity, badRowFraction: 1, agree: false, reason: 'different shapes' };
  }
  if (positions === 0) return { positions, meanOverlap: 1, meanAbsLogprobDiff: 0, p99AbsLogprobDiff: 0, badRowFraction: 0, agree: true, reason: null };
  histogram.fill(0);
  if (rowOverlap.length < positions) rowOverlap = new Float64Array(positions);
  rowOverlap.fill(0, 0, positions);
  const tally: Tally = { overlap: 0, diffSum: 0, diffCount: 0 };
  tallyDirection(a, b, tally);
  tallyDirection(b, a, tally);
  const meanOverlap = tally.overlap / (2 * positions);
  const meanAbs = tally.diffCount ? (tally.diffSum / tally.diffCount) * LOGPROB_STEP : Infinity;
  let p99 = Infinity;
  if (tally.diffCount) {
    const target = Math.ceil(0.99 * tally.diffCount);
    let seen = 0;
    for (let c = 0; c < MAX_CODE; c++) {
      seen += histogram[c]!;
      if (seen >= target) {
        p99 = c * LOGPROB_STEP;
        break;
      }
    }
  }
  let badRows = 0;
  for (let p = 0; p < positions; p++) if (rowOverlap[p]! < BAD_ROW_OVERLAP) badRows++;
  const badRowFraction = badRows / positions;
  const reason =
    badRowFraction > tol.maxBadRowFraction ? `${(badRowFraction * 100).toFixed(1)} % of positions share under half their top ${AGREEMENT_TOP}`
    : meanOverlap < tol.minMeanOverlap ? `top-${AGREEMENT_TOP} overlap ${meanOverlap.toFixed(3)} < ${tol.minMeanOverlap}`
    : meanAbs > tol.maxMeanAbsLogprobDiff ? `mean |Δ log-prob| ${meanAbs.toFixed(3)} > ${tol.maxMeanAbsLogprobDiff} nats`
    : p99 > tol.maxP99AbsLogprobDiff ? `p99 |Δ log-prob| ${p99.toFixed(3)} > ${tol.maxP99AbsLogprobDiff} nats`
    : null;
  return { positions, meanOverlap, meanAbsLogprobDiff: meanAbs, p99AbsLogprobDiff: p99, badRowFraction, agree: reason === null, reason };
}

/**
 * Two results of a whole task agree when every document agrees on the same randomly sampled rows
 * (`rows[i]` for document i, drawn after both were uploaded: `sampleRows`).
 */
export function compareResults(
  a: ParsedRecord[],
  b: ParsedRecord[],
  sampled: readonly ArrayLike<number>[],
  tol: Tolerances = DEFAULT_TOLERANCES,
): { agree: boolean; reason: string | null } {
  if (a.length !== b.length) return { agree: false, reason: 'different document counts' };
  for (let i = 0; i < a.length; i++) {
    if (a[i]!.header.positions !== b[i]!.header.positions) return { agree: false, reason: `document ${i}: different position counts` };
    const rows = sampled[i]!;
    let doc: Agreement;
    try {
      doc = compareLabels(readRows(a[i]!, rows), readRows(b[i]!, rows), tol);
    } catch (error) {
      // A malformed row the structural sample missed: no agreement, and the majority decides whose.
      return { agree: false, reason: `document ${i}: ${error instanceof Error ? error.message : String(error)}` };
    }
    if (!doc.agree) return { agree: false, reason: `document ${i}: ${doc.reason}` };
  }
  return { agree: true, reason: null };
}
