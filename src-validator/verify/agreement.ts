import { LOGPROB_STEP, type SoftLabels } from '../../src-shared/soft-labels';
import {
  AGREEMENT_TOP,
  BAD_ROW_OVERLAP,
  MAX_BAD_ROW_FRACTION,
  MAX_MEAN_ABS_LOGPROB_DIFF,
  MAX_P99_ABS_LOGPROB_DIFF,
  MIN_MEAN_OVERLAP,
} from '../config';
import { readRowCodes, type ParsedRecord } from './record-rows';

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

const DEFAULT_TOLERANCES: Tolerances = {
  minMeanOverlap: MIN_MEAN_OVERLAP,
  maxMeanAbsLogprobDiff: MAX_MEAN_ABS_LOGPROB_DIFF,
  maxP99AbsLogprobDiff: MAX_P99_ABS_LOGPROB_DIFF,
  maxBadRowFraction: MAX_BAD_ROW_FRACTION,
};

const MAX_CODE = 1 << 13;
// Scratch space reused across calls (each thread runs one comparison at a time).
const histogram = new Int32Array(MAX_CODE);
let scratch = { aIds: new Int32Array(0), aCodes: new Int32Array(0), bIds: new Int32Array(0), bCodes: new Int32Array(0) };

function scratchFor(cells: number): typeof scratch {
  if (scratch.aIds.length < cells) {
    scratch = { aIds: new Int32Array(cells), aCodes: new Int32Array(cells), bIds: new Int32Array(cells), bCodes: new Int32Array(cells) };
  }
  return scratch;
}

interface Tally {
  /** Shared ids over both directions and all rows. */
  shared: number;
  diffSum: number;
  diffCount: number;
  maxCode: number;
}

/**
 * One direction at one row: how many of A's top `top` ids are in B's top k, with the log-prob
 * difference of each shared id going into the histogram. Honest labelings mostly rank an id the
 * same, so B's same rank is tried first and most look-ups take one compare; otherwise B's row is
 * scanned from its last rank (a repeated id, a malformed row the structural sample missed,
 * matches the last rank holding it). Codes are -log-prob / LOGPROB_STEP, so a difference is a
 * whole number of steps.
 */
function tallyRow(
  aIds: Int32Array,
  aCodes: Int32Array,
  bIds: Int32Array,
  bCodes: Int32Array,
  base: number,
  k: number,
  top: number,
  tally: Tally,
): number {
  let shared = 0;
  for (let r = 0; r < top; r++) {
    const id = aIds[base + r]!;
    let at = base + r;
    if (bIds[at] !== id) {
      at = base + k - 1;
      while (at >= base && bIds[at] !== id) at--;
      if (at < base) continue;
    }
    shared++;
    let code = aCodes[base + r]! - bCodes[at]!;
    if (code < 0) code = -code;
    if (code >= MAX_CODE) code = MAX_CODE - 1;
    histogram[code]!++;
    if (code > tally.maxCode) tally.maxCode = code;
    tally.diffSum += code;
  }
  tally.diffCount += shared;
  return shared;
}

/**
 * The comparison itself, on rows of ids and log-prob codes (`readRowCodes`): `positions` rows of
 * `k` cells each. Looking A's top 8 up in B's whole top k (and the reverse) makes near-ties that
 * swap ranks 8 and 9 harmless; comparing log-probs only on shared ids keeps the measure defined
 * when the sets differ. Differences are whole quantisation steps, so the p99 is read from a
 * histogram, no sort. Integer tallies make the verdict exactly symmetric.
 */
function compareCodes(
  aIds: Int32Array,
  aCodes: Int32Array,
  bIds: Int32Array,
  bCodes: Int32Array,
  positions: number,
  k: number,
  tol: Tolerances,
): Agreement {
  if (positions === 0)
    return { positions, meanOverlap: 1, meanAbsLogprobDiff: 0, p99AbsLogprobDiff: 0, badRowFraction: 0, agree: true, reason: null };
  const top = Math.min(AGREEMENT_TOP, k);
  const tally: Tally = { shared: 0, diffSum: 0, diffCount: 0, maxCode: 0 };
  let badRows = 0;
  for (let p = 0, base = 0; p < positions; p++, base += k) {
    const shared = tallyRow(aIds, aCodes, bIds, bCodes, base, k, top, tally) + tallyRow(bIds, bCodes, aIds, aCodes, base, k, top, tally);
    tally.shared += shared;
    if (shared < BAD_ROW_OVERLAP * 2 * top) badRows++;
  }
  const meanOverlap = tally.shared / (2 * positions * top);
  const meanAbs = tally.diffCount ? (tally.diffSum / tally.diffCount) * LOGPROB_STEP : Infinity;
  let p99 = Infinity;
  if (tally.diffCount) {
    const target = Math.ceil(0.99 * tally.diffCount);
    for (let c = 0, seen = 0; c <= tally.maxCode; c++) {
      seen += histogram[c]!;
      if (seen >= target) {
        p99 = c * LOGPROB_STEP;
        break;
      }
    }
  }
  histogram.fill(0, 0, tally.maxCode + 1);
  const badRowFraction = badRows / positions;
  const reason =
    badRowFraction > tol.maxBadRowFraction
      ? `${(badRowFraction * 100).toFixed(1)} % of positions share under half their top ${AGREEMENT_TOP}`
      : meanOverlap < tol.minMeanOverlap
        ? `top-${AGREEMENT_TOP} overlap ${meanOverlap.toFixed(3)} < ${tol.minMeanOverlap}`
        : meanAbs > tol.maxMeanAbsLogprobDiff
          ? `mean |Δ log-prob| ${meanAbs.toFixed(3)} > ${tol.maxMeanAbsLogprobDiff} nats`
          : p99 > tol.maxP99AbsLogprobDiff
            ? `p99 |Δ log-prob| ${p99.toFixed(3)} > ${tol.maxP99AbsLogprobDiff} nats`
            : null;
  return { positions, meanOverlap, meanAbsLogprobDiff: meanAbs, p99AbsLogprobDiff: p99, badRowFraction, agree: reason === null, reason };
}

function differentShapes(positions: number): Agreement {
  return {
    positions,
    meanOverlap: 0,
    meanAbsLogprobDiff: Infinity,
    p99AbsLogprobDiff: Infinity,
    badRowFraction: 1,
    agree: false,
    reason: 'different shapes',
  };
}

/** How closely two decoded labelings of the same document agree (both out of the codec). */
export function compareLabels(a: SoftLabels, b: SoftLabels, tol: Tolerances = DEFAULT_TOLERANCES): Agreement {
  const positions = a.header.positions;
  const { k } = a.header;
  if (positions !== b.header.positions || k !== b.header.k) {
    return differentShapes(positions);
  }
  const cells = positions * k;
  const { aCodes, bCodes } = scratchFor(cells);
  for (let c = 0; c < cells; c++) {
    aCodes[c] = Math.round(-a.topkLogprobs[c]! / LOGPROB_STEP);
    bCodes[c] = Math.round(-b.topkLogprobs[c]! / LOGPROB_STEP);
  }
  return compareCodes(a.topkIds, aCodes, b.topkIds, bCodes, positions, k, tol);
}

/**
 * The same comparison on sampled rows of two encoded records, read straight from their bytes
 * into reused arrays. Throws SoftLabelsError('unsorted') for a row the decoder would refuse.
 */
export function compareRecordRows(
  a: ParsedRecord,
  b: ParsedRecord,
  rows: ArrayLike<number>,
  tol: Tolerances = DEFAULT_TOLERANCES,
): Agreement {
  const { k } = a.header;
  if (a.header.positions !== b.header.positions || k !== b.header.k) {
    return differentShapes(rows.length);
  }
  const s = scratchFor(rows.length * k);
  readRowCodes(a, rows, s.aIds, s.aCodes);
  readRowCodes(b, rows, s.bIds, s.bCodes);
  return compareCodes(s.aIds, s.aCodes, s.bIds, s.bCodes, rows.length, k, tol);
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
      doc = compareRecordRows(a[i]!, b[i]!, rows, tol);
    } catch (error) {
      // A malformed row the structural sample missed: no agreement, and the majority decides whose.
      return { agree: false, reason: `document ${i}: ${error instanceof Error ? error.message : String(error)}` };
    }
    if (!doc.agree) return { agree: false, reason: `document ${i}: ${doc.reason}` };
  }
  return { agree: true, reason: null };
}
