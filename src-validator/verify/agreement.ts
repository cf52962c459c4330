import { LOGPROB_STEP, type SoftLabels } from '../../src-node/soft-labels';
import {
  AGREEMENT_TOP,
  BAD_ROW_OVERLAP,
  GROSS_AUDIT_FAILURE_FACTOR,
  MAX_BAD_ROW_FRACTION,
  MAX_COARSE_GRID_SHARE,
  MAX_MEAN_ABS_LOGPROB_DIFF,
  MAX_MEAN_SIGNED_LOGPROB_DIFF,
  MAX_P99_ABS_LOGPROB_DIFF,
  MAX_RANK_MISS_FRACTION,
  MIN_MEAN_OVERLAP,
  NEAR_TIE_LOGPROB_DIFF,
} from '../config';
import { coarseGridShare, GRID_FINEST_DIVISOR, GRID_PERIOD } from './coarse-grid';
import { readRowCodes, type ParsedRecord } from './record-rows';

export interface Agreement {
  positions: number;
  /** Mean over positions and both directions of |top-8(A) ∩ top-k(B)| / 8. */
  meanOverlap: number;
  /** Over ids both sides rank in their top k (every rank); Infinity when none are shared. */
  meanAbsLogprobDiff: number;
  p99AbsLogprobDiff: number;
  /** Mean of log-prob(A) − log-prob(B) over the same ids: a systematic bias; 0 when none are shared. */
  meanSignedLogprobDiff: number;
  /** Of all k·positions cells, both directions: ids the other side lacks above its k-th, or ranks elsewhere, beyond a near tie. */
  rankMissFraction: number;
  /** Largest share of one side's log-probs on a grid of 1/n nats (n ≤ 32) beyond chance (`coarseGridShare`). */
  coarseGridShare: number;
  /** Fraction of positions that share under half their top 8 or miss half their cells. */
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
  nearTieLogprobDiff: number;
  maxRankMissFraction: number;
  maxMeanSignedLogprobDiff: number;
  maxCoarseGridShare: number;
}

const DEFAULT_TOLERANCES: Tolerances = {
  minMeanOverlap: MIN_MEAN_OVERLAP,
  maxMeanAbsLogprobDiff: MAX_MEAN_ABS_LOGPROB_DIFF,
  maxP99AbsLogprobDiff: MAX_P99_ABS_LOGPROB_DIFF,
  maxBadRowFraction: MAX_BAD_ROW_FRACTION,
  nearTieLogprobDiff: NEAR_TIE_LOGPROB_DIFF,
  maxRankMissFraction: MAX_RANK_MISS_FRACTION,
  maxMeanSignedLogprobDiff: MAX_MEAN_SIGNED_LOGPROB_DIFF,
  maxCoarseGridShare: MAX_COARSE_GRID_SHARE,
};

/**
 * The bounds honest jitter moves, widened (`GROSS_AUDIT_FAILURE_FACTOR`); the checks it never
 * trips (bad rows, rank misses, grid) and the near tie, a definition rather than a bound, stay.
 */
const GROSS_FAILURE_TOLERANCES: Tolerances = {
  ...DEFAULT_TOLERANCES,
  minMeanOverlap: 1 - GROSS_AUDIT_FAILURE_FACTOR * (1 - MIN_MEAN_OVERLAP),
  maxMeanAbsLogprobDiff: GROSS_AUDIT_FAILURE_FACTOR * MAX_MEAN_ABS_LOGPROB_DIFF,
  maxP99AbsLogprobDiff: GROSS_AUDIT_FAILURE_FACTOR * MAX_P99_ABS_LOGPROB_DIFF,
  maxMeanSignedLogprobDiff: GROSS_AUDIT_FAILURE_FACTOR * MAX_MEAN_SIGNED_LOGPROB_DIFF,
};

const MAX_CODE = 1 << 13;
const BIAS_STANDARD_ERRORS = 4;
// Scratch space reused across calls (each thread runs one comparison at a time).
const histogram = new Int32Array(MAX_CODE);
let scratch = { aIds: new Int32Array(0), aCodes: new Int32Array(0), bIds: new Int32Array(0), bCodes: new Int32Array(0) };

function scratchFor(cells: number): typeof scratch {
  if (scratch.aIds.length < cells) {
    scratch = { aIds: new Int32Array(cells), aCodes: new Int32Array(cells), bIds: new Int32Array(cells), bCodes: new Int32Array(cells) };
  }
  return scratch;
}

/** What one document's rows add up to. */
interface DocumentTally {
  positions: number;
  /** Shared ids among each side's top 8, over both directions and all rows. */
  sharedTop: number;
  diffSum: number;
  diffCount: number;
  maxCode: number;
  misses: number;
  badRows: number;
}

/**
 * What every compared row adds up to, over one document or a whole task: the bias and grid
 * checks need many cells to tell a few hundredths of a nat from sampling noise, so a task is
 * judged on all its documents' rows together.
 */
interface SampleTally {
  rows: number;
  badRows: number;
  /** Σ code(A) − code(B) over shared ids, both directions, in codec steps. */
  signedSum: number;
  /** Σ over rows of the square of that row's signed sum: rows are the independent units (one log-sum-exp each). */
  rowSignedSquares: number;
  diffCount: number;
  /** Per side, how many log-prob codes fall on each residue mod 128 (1 nat). */
  residues: [Int32Array, Int32Array];
}

function newSampleTally(): SampleTally {
  return {
    rows: 0,
    badRows: 0,
    signedSum: 0,
    rowSignedSquares: 0,
    diffCount: 0,
    residues: [new Int32Array(GRID_PERIOD), new Int32Array(GRID_PERIOD)],
  };
}

/**
 * One direction at one row, over all k ranks: each of A's ids is looked up in B's row; a shared
 * id's log-prob difference goes into the histogram and the signed sum (`sign` orients it as A − B
 * in both directions). An id B lacks is a miss unless A's log-prob is within a near tie of B's
 * k-th (it may sit just below B's cut); an id B ranks elsewhere is a miss unless B's log-probs at
 * the two ranks are within a near tie. Honest labelings mostly rank an id the same, so B's same
 * rank is tried first and most look-ups take one compare; otherwise B's row is scanned from its
 * last rank (a repeated id, a malformed row the structural sample missed, matches the last rank
 * holding it). Codes are -log-prob / LOGPROB_STEP, so a difference is a whole number of steps.
 * An id at the same rank on both sides is measured in one direction only (`measureSameRank`),
 * which halves the work of the second; one found at another rank is measured from each side, so
 * the tallies stay mirror images and the verdict exactly symmetric.
 * Returns shared ids among A's top 8 in the low 16 bits, misses above.
 */
function tallyRow(
  aIds: Int32Array,
  aCodes: Int32Array,
  bIds: Int32Array,
  bCodes: Int32Array,
  base: number,
  k: number,
  top: number,
  tieCodes: number,
  sign: number,
  measureSameRank: boolean,
  doc: DocumentTally,
  sample: SampleTally,
  residues: Int32Array,
): number {
  // Locals, written back once per row: the loop runs for every sampled cell twice.
  let sharedTop = 0;
  let misses = 0;
  let signedSum = 0;
  let diffSum = 0;
  let diffCount = 0;
  let maxCode = doc.maxCode;
  const bLast = bCodes[base + k - 1]!;
  for (let r = 0; r < k; r++) {
    const id = aIds[base + r]!;
    const aCode = aCodes[base + r]!;
    residues[aCode & (GRID_PERIOD - 1)]!++;
    let at = base + r;
    if (bIds[at] === id) {
      if (r < top) sharedTop++;
      if (!measureSameRank) continue;
    } else {
      at = base + k - 1;
      while (at >= base && bIds[at] !== id) at--;
      if (at < base) {
        // Larger codes are lower log-probs: A's id sits clearly above B's k-th, so B left it out.
        if (aCode < bLast - tieCodes) misses++;
        continue;
      }
      const gap = bCodes[at]! - bCodes[base + r]!;
      if (gap > tieCodes || gap < -tieCodes) misses++;
      if (r < top) sharedTop++;
    }
    const signed = aCode - bCodes[at]!;
    signedSum += signed;
    let code = signed < 0 ? -signed : signed;
    if (code >= MAX_CODE) code = MAX_CODE - 1;
    histogram[code]!++;
    if (code > maxCode) maxCode = code;
    diffSum += code;
    diffCount++;
  }
  sample.signedSum += sign * signedSum;
  doc.diffSum += diffSum;
  doc.diffCount += diffCount;
  doc.maxCode = maxCode;
  return sharedTop | (misses << 16);
}

/** One document's rows of both sides, as ids and log-prob codes (`readRowCodes`): `positions` rows of `k` cells each. */
interface RowPair {
  aIds: Int32Array;
  aCodes: Int32Array;
  bIds: Int32Array;
  bCodes: Int32Array;
  positions: number;
  k: number;
}

/** Integer tallies make the verdict exactly symmetric. */
function tallyDocument(rows: RowPair, tol: Tolerances, sample: SampleTally): DocumentTally {
  const { aIds, aCodes, bIds, bCodes, positions, k } = rows;
  const top = Math.min(AGREEMENT_TOP, k);
  const tieCodes = Math.round(tol.nearTieLogprobDiff / LOGPROB_STEP);
  const doc: DocumentTally = { positions, sharedTop: 0, diffSum: 0, diffCount: 0, maxCode: 0, misses: 0, badRows: 0 };
  for (let p = 0, base = 0; p < positions; p++, base += k) {
    const signedBefore = sample.signedSum;
    const ab = tallyRow(aIds, aCodes, bIds, bCodes, base, k, top, tieCodes, 1, true, doc, sample, sample.residues[0]);
    const ba = tallyRow(bIds, bCodes, aIds, aCodes, base, k, top, tieCodes, -1, false, doc, sample, sample.residues[1]);
    const sharedTop = (ab & 0xffff) + (ba & 0xffff);
    const misses = (ab >>> 16) + (ba >>> 16);
    const rowSigned = sample.signedSum - signedBefore;
    sample.rowSignedSquares += rowSigned * rowSigned;
    doc.sharedTop += sharedTop;
    doc.misses += misses;
    // Made-up rows share little of the top 8, or, made up below it, miss half their cells.
    if (sharedTop < BAD_ROW_OVERLAP * 2 * top || misses >= k) doc.badRows++;
  }
  sample.rows += positions;
  sample.badRows += doc.badRows;
  sample.diffCount += doc.diffCount;
  return doc;
}

/** The p99 of the document's |Δ| (read from the histogram of whole steps, no sort), clearing it. */
function p99AndClear(doc: DocumentTally): number {
  let p99 = Infinity;
  if (doc.diffCount) {
    const target = Math.ceil(0.99 * doc.diffCount);
    for (let c = 0, seen = 0; c <= doc.maxCode; c++) {
      seen += histogram[c]!;
      if (seen >= target) {
        p99 = c * LOGPROB_STEP;
        break;
      }
    }
  }
  histogram.fill(0, 0, doc.maxCode + 1);
  return p99;
}

/** Whole bad rows allowed among `rows`: rounded down, so one in 128 and none in fewer than 100. */
function allowedBadRows(rows: number, tol: Tolerances): number {
  return Math.floor(rows * tol.maxBadRowFraction + 1e-9);
}

/** The checks that hold row by row: overlap, misses over all k ranks, bad rows, |Δ|. */
function documentVerdict(doc: DocumentTally, p99: number, k: number, tol: Tolerances): Agreement {
  const { positions } = doc;
  const top = Math.min(AGREEMENT_TOP, k);
  const meanOverlap = doc.sharedTop / (2 * positions * top);
  const rankMissFraction = doc.misses / (2 * positions * k);
  const meanAbs = doc.diffCount ? (doc.diffSum / doc.diffCount) * LOGPROB_STEP : Infinity;
  const badRowFraction = doc.badRows / positions;
  const reason =
    doc.badRows > allowedBadRows(positions, tol)
      ? `${doc.badRows} of ${positions} positions share under half their top ${AGREEMENT_TOP} or miss half their top ${k}`
      : meanOverlap < tol.minMeanOverlap
        ? `top-${AGREEMENT_TOP} overlap ${meanOverlap.toFixed(3)} < ${tol.minMeanOverlap}`
        : rankMissFraction > tol.maxRankMissFraction
          ? `${(rankMissFraction * 100).toFixed(1)} % of top-${k} ids missing or ranked elsewhere beyond a ${tol.nearTieLogprobDiff}-nat near tie`
          : meanAbs > tol.maxMeanAbsLogprobDiff
            ? `mean |Δ log-prob| ${meanAbs.toFixed(3)} > ${tol.maxMeanAbsLogprobDiff} nats`
            : p99 > tol.maxP99AbsLogprobDiff
              ? `p99 |Δ log-prob| ${p99.toFixed(3)} > ${tol.maxP99AbsLogprobDiff} nats`
              : null;
  return {
    positions,
    meanOverlap,
    meanAbsLogprobDiff: meanAbs,
    p99AbsLogprobDiff: p99,
    meanSignedLogprobDiff: 0,
    rankMissFraction,
    coarseGridShare: 0,
    badRowFraction,
    agree: reason === null,
    reason,
  };
}

/** The checks that need the whole sample: bias, grid, bad rows over every document. */
function sampleVerdict(sample: SampleTally, tol: Tolerances): { meanSigned: number; gridShare: number; reason: string | null } {
  // Codes are -log-prob / step: a positive code difference is a lower log-prob on A's side.
  const meanSigned = sample.diffCount ? (-sample.signedSum / sample.diffCount) * LOGPROB_STEP : 0;
  // The bias bound widens to four standard errors of the mean on samples too small for it (a
  // task of one short document), so honest jitter never trips it; on 100 honest rows at σ 0.03
  // four standard errors are ~0.008, under the bound.
  const rowVariance = sample.rows > 1 ? Math.max(0, sample.rowSignedSquares - (sample.signedSum * sample.signedSum) / sample.rows) : 0;
  const standardError = sample.diffCount ? (Math.sqrt(rowVariance) / sample.diffCount) * LOGPROB_STEP : 0;
  const maxSigned = Math.max(tol.maxMeanSignedLogprobDiff, BIAS_STANDARD_ERRORS * standardError);
  const gridShare = Math.max(coarseGridShare(sample.residues[0]), coarseGridShare(sample.residues[1]));
  const reason =
    sample.badRows > allowedBadRows(sample.rows, tol)
      ? `${sample.badRows} of ${sample.rows} sampled positions are bad rows`
      : Math.abs(meanSigned) > maxSigned
        ? `mean Δ log-prob ${meanSigned.toFixed(3)} nats: a bias beyond ±${maxSigned.toFixed(3)}`
        : gridShare > tol.maxCoarseGridShare
          ? `${(gridShare * 100).toFixed(0)} % of log-probs on a grid coarser than 1/${GRID_FINEST_DIVISOR} nats`
          : null;
  return { meanSigned, gridShare, reason };
}

/** Every check on one document's rows (a document is its own whole sample). */
function compareCodes(rows: RowPair, tol: Tolerances): Agreement {
  const { positions, k } = rows;
  if (positions === 0)
    return {
      positions,
      meanOverlap: 1,
      meanAbsLogprobDiff: 0,
      p99AbsLogprobDiff: 0,
      meanSignedLogprobDiff: 0,
      rankMissFraction: 0,
      coarseGridShare: 0,
      badRowFraction: 0,
      agree: true,
      reason: null,
    };
  const sample = newSampleTally();
  const doc = tallyDocument(rows, tol, sample);
  const verdict = documentVerdict(doc, p99AndClear(doc), k, tol);
  const whole = sampleVerdict(sample, tol);
  const reason = verdict.reason ?? whole.reason;
  return { ...verdict, meanSignedLogprobDiff: whole.meanSigned, coarseGridShare: whole.gridShare, agree: reason === null, reason };
}

function differentShapes(positions: number): Agreement {
  return {
    positions,
    meanOverlap: 0,
    meanAbsLogprobDiff: Infinity,
    p99AbsLogprobDiff: Infinity,
    meanSignedLogprobDiff: 0,
    rankMissFraction: 1,
    coarseGridShare: 0,
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
  return compareCodes({ aIds: a.topkIds, aCodes, bIds: b.topkIds, bCodes, positions, k }, tol);
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
  /** Where `b` is a prefix of `a`'s document: the positions both cover (rows lie below it). */
  sharedPositions = a.header.positions,
): Agreement {
  const { k } = a.header;
  if (sharedPositions > b.header.positions || b.header.positions > a.header.positions || k !== b.header.k) {
    return differentShapes(rows.length);
  }
  const s = scratchFor(rows.length * k);
  readRowCodes(a, rows, s.aIds, s.aCodes);
  readRowCodes(b, rows, s.bIds, s.bCodes);
  return compareCodes({ ...s, positions: rows.length, k }, tol);
}

/**
 * A miner's record against the validator's re-computation of a prefix of its document (a causal
 * LM's labels for a prefix are the whole document's labels at those positions): every row of the
 * prefix, all k ranks, with the tolerances of a comparison between two miners.
 */
export function compareRecordPrefix(record: ParsedRecord, prefix: ParsedRecord, tol: Tolerances = DEFAULT_TOLERANCES): Agreement {
  const { positions } = prefix.header;
  return compareRecordRows(
    record,
    prefix,
    Int32Array.from({ length: positions }, (_, i) => i),
    tol,
    positions,
  );
}

/**
 * Two results of a whole task agree when every document agrees on the same randomly sampled rows
 * (`rows[i]` for document i, drawn after both were uploaded: `sampleRows`), and the rows of all
 * documents together show no bias, no coarse grid and no more bad rows than honest noise makes.
 */
export function compareResults(
  a: ParsedRecord[],
  b: ParsedRecord[],
  sampled: readonly ArrayLike<number>[],
  tol: Tolerances = DEFAULT_TOLERANCES,
): { agree: boolean; reason: string | null } {
  if (a.length !== b.length) return { agree: false, reason: 'different document counts' };
  const sample = newSampleTally();
  for (let i = 0; i < a.length; i++) {
    const { k, positions } = a[i]!.header;
    if (positions !== b[i]!.header.positions) return { agree: false, reason: `document ${i}: different position counts` };
    if (k !== b[i]!.header.k) return { agree: false, reason: `document ${i}: different shapes` };
    const rows = sampled[i]!;
    if (rows.length === 0) continue;
    const s = scratchFor(rows.length * k);
    try {
      readRowCodes(a[i]!, rows, s.aIds, s.aCodes);
      readRowCodes(b[i]!, rows, s.bIds, s.bCodes);
    } catch (error) {
      // A malformed row the structural sample missed: no agreement, and the majority decides whose.
      return { agree: false, reason: `document ${i}: ${error instanceof Error ? error.message : String(error)}` };
    }
    const doc = tallyDocument({ ...s, positions: rows.length, k }, tol, sample);
    const verdict = documentVerdict(doc, p99AndClear(doc), k, tol);
    if (!verdict.agree) return { agree: false, reason: `document ${i}: ${verdict.reason}` };
  }
  const { reason } = sampleVerdict(sample, tol);
  return { agree: reason === null, reason };
}

/** An audited prefix: it agrees, fails by a near miss honest jitter can make, or fails grossly. */
export interface PrefixVerdict {
  outcome: 'pass' | 'near-miss' | 'gross';
  reason: string | null;
}

/** `compareRecordPrefix`, and for a failure whether it is gross (fails the widened bounds too). */
export function judgePrefix(record: ParsedRecord, prefix: ParsedRecord): PrefixVerdict {
  const verdict = compareRecordPrefix(record, prefix);
  if (verdict.agree) return { outcome: 'pass', reason: null };
  return { outcome: compareRecordPrefix(record, prefix, GROSS_FAILURE_TOLERANCES).agree ? 'near-miss' : 'gross', reason: verdict.reason };
}
