import { describe, expect, it } from 'vitest';
import { decodeSoftLabels, encodeSoftLabels, LOGPROB_STEP, tokenIdsChecksum, type SoftLabels } from '../../src-node/soft-labels';
import { earnedNano, u16Weights } from '../../src-validator/accounting/earnings';
import { MIN_CHECK_PROBABILITY, TRUST_STREAK } from '../../src-validator/config';
import { fakeLabels, fakeTokenizer, type FakeTeacherOptions } from '../../src-validator/bench/sim/fake-teacher';
import { pickDocuments } from '../../src-validator/tasks/task-sizing';
import { compareLabels, compareRecordRows } from '../../src-validator/verify/agreement';
import { checkProbability } from '../../src-validator/verify/check-policy';
import { findConsensus } from '../../src-validator/verify/consensus';
import { parseRecord, readRowCodes, sampleRows, type ParsedRecord } from '../../src-validator/verify/record-rows';
import { checkStructure } from '../../src-validator/verify/structural';
import { seededRandom } from './harness';

/** The given rows of a record as a SoftLabels value (`rows.length` positions): the reference the row reader is checked against. */
function readRows(record: ParsedRecord, rows: ArrayLike<number>): SoftLabels {
  const { k } = record.header;
  const topkIds = new Int32Array(rows.length * k);
  const codes = new Int32Array(rows.length * k);
  readRowCodes(record, rows, topkIds, codes);
  const topkLogprobs = new Float32Array(rows.length * k);
  for (let c = 0; c < codes.length; c++) topkLogprobs[c] = 0 - codes[c]! * LOGPROB_STEP;
  return { header: { ...record.header, positions: rows.length }, topkIds, topkLogprobs };
}

const tokenizer = fakeTokenizer();
const text = Array.from(
  { length: 900 },
  (_, i) => ['alpha', 'beta', 'gamma', 'delta', 'eps', 'zeta', 'eta'][(i * 7 + (i >> 3)) % 7] + String(i % 13),
).join(' ');
const ids = tokenizer.encode(text, 1024);
const MODEL = 'ab'.repeat(32);

/** Labels as they arrive at the validator: through the codec. */
function labels(opts: Omit<FakeTeacherOptions, 'k'>): SoftLabels {
  const { topkIds, topkLogprobs } = fakeLabels(ids, { k: 16, ...opts });
  const header = { taskId: 't-1', docId: 'd-1', modelHash: MODEL, k: 16, positions: ids.length, tokenIdsChecksum: tokenIdsChecksum(ids) };
  return decodeSoftLabels(encodeSoftLabels({ header, topkIds, topkLogprobs }));
}

describe('agreement between two labelings of one document', () => {
  const reference = labels({ noise: 0.01, noiseSeed: 1 });

  it.each([
    ['another GPU (σ 0.01 nats jitter)', { noise: 0.01, noiseSeed: 2 }],
    ['a noisier fp16 kernel (σ 0.03 nats)', { noise: 0.03, noiseSeed: 3 }],
  ])('accepts %s', (_name, opts) => {
    const verdict = compareLabels(reference, labels(opts));
    expect(verdict.agree).toBe(true);
    expect(verdict.meanOverlap).toBeGreaterThan(0.95);
    expect(verdict.meanAbsLogprobDiff).toBeLessThan(0.05);
  });

  it.each([
    ['a smaller model (temperature 1.4, other tail)', { noise: 0.01, noiseSeed: 4, temperature: 1.4, variant: 1 }],
    ['the same family at temperature 1.15', { noise: 0.01, noiseSeed: 5, temperature: 1.15 }],
    ['another family with the same top 3', { noise: 0.01, noiseSeed: 6, variant: 2 }],
  ])('rejects %s', (_name, opts) => {
    const verdict = compareLabels(reference, labels(opts));
    expect(verdict.agree).toBe(false);
    expect(verdict.reason).toBeTruthy();
  });

  it('rejects a result faking a few percent of its positions', () => {
    const other = labels({ noise: 0.01, noiseSeed: 2 });
    const faked = { ...other, topkIds: other.topkIds.slice() };
    // Every 20th position gets made-up ids (5 %): the means barely move, the bad-row count does.
    for (let p = 0; p < ids.length; p += 20) for (let r = 0; r < 16; r++) faked.topkIds[p * 16 + r] = 20000 + p + r;
    const verdict = compareLabels(reference, faked);
    expect(verdict.meanOverlap).toBeGreaterThan(0.9);
    expect(verdict.agree).toBe(false);
    expect(verdict.badRowFraction).toBeGreaterThan(0.04);
  });

  it('rejects labels shifted by one position', () => {
    const other = labels({ noise: 0.01, noiseSeed: 2 });
    const k = 16;
    const shifted = { ...other, topkIds: other.topkIds.slice(), topkLogprobs: other.topkLogprobs.slice() };
    shifted.topkIds.copyWithin(0, k);
    shifted.topkLogprobs.copyWithin(0, k);
    const verdict = compareLabels(reference, shifted);
    expect(verdict.agree).toBe(false);
    expect(verdict.meanOverlap).toBeLessThan(0.5);
  });

  it('measures what its definition says (a naive re-implementation agrees on every figure)', () => {
    // Per position and direction, over all 16 ranks: whether the other side holds each id, and
    // where; |Δ log-prob| and the signed A − B difference in whole codec steps for each shared pair.
    const tie = 26; // NEAR_TIE_LOGPROB_DIFF (0.2 nats) in codec steps
    const code = (l: SoftLabels, c: number) => Math.round(-l.topkLogprobs[c]! / LOGPROB_STEP);
    const naive = (a: SoftLabels, b: SoftLabels) => {
      const diffs: number[] = [];
      let signed = 0;
      let sharedTop = 0;
      let misses = 0;
      let badRows = 0;
      for (let p = 0; p < a.header.positions; p++) {
        let rowTop = 0;
        let rowMisses = 0;
        for (const [x, y, sign] of [
          [a, b, 1],
          [b, a, -1],
        ] as const) {
          const rankOf = new Map<number, number>();
          for (let r = 15; r >= 0; r--) rankOf.set(y.topkIds[p * 16 + r]!, r);
          for (let r = 0; r < 16; r++) {
            const at = rankOf.get(x.topkIds[p * 16 + r]!);
            if (at === undefined) {
              if (code(x, p * 16 + r) < code(y, p * 16 + 15) - tie) rowMisses++;
              continue;
            }
            if (Math.abs(code(y, p * 16 + at) - code(y, p * 16 + r)) > tie) rowMisses++;
            if (r < 8) rowTop++;
            // An id at the same rank on both sides is one pair, measured once.
            if (at === r && sign === -1) continue;
            const d = code(x, p * 16 + r) - code(y, p * 16 + at);
            diffs.push(Math.abs(d));
            signed -= sign * d;
          }
        }
        sharedTop += rowTop;
        misses += rowMisses;
        if (rowTop < 8 || rowMisses >= 16) badRows++;
      }
      diffs.sort((m, n) => m - n);
      return {
        meanOverlap: sharedTop / (2 * 8 * a.header.positions),
        meanAbsLogprobDiff: (diffs.reduce((m, n) => m + n, 0) / diffs.length) * LOGPROB_STEP,
        p99AbsLogprobDiff: diffs[Math.ceil(0.99 * diffs.length) - 1]! * LOGPROB_STEP,
        meanSignedLogprobDiff: (signed / diffs.length) * LOGPROB_STEP,
        rankMissFraction: misses / (2 * 16 * a.header.positions),
        badRowFraction: badRows / a.header.positions,
      };
    };
    const mixed = labels({ noise: 0.01, noiseSeed: 2 });
    // Every other position keeps only its top 4 and its last 4 ids: rows right at half overlap.
    for (let p = 0; p < ids.length; p += 2) for (let r = 4; r < 12; r++) mixed.topkIds[p * 16 + r] = 30000 + r;
    // Every fifth swaps ranks 2 and 12: a swap far beyond a near tie.
    for (let p = 1; p < ids.length; p += 5) {
      const t = mixed.topkIds[p * 16 + 1]!;
      mixed.topkIds[p * 16 + 1] = mixed.topkIds[p * 16 + 11]!;
      mixed.topkIds[p * 16 + 11] = t;
    }
    for (const other of [
      mixed,
      labels({ noise: 0.03, noiseSeed: 3 }),
      labels({ noise: 0.01, noiseSeed: 4, temperature: 1.4, variant: 1 }),
      labels({ noise: 0.01, noiseSeed: 6, variant: 2 }),
    ]) {
      const expected = naive(reference, other);
      const { meanSignedLogprobDiff, ...unsigned } = expected;
      expect(compareLabels(reference, other)).toMatchObject(unsigned);
      expect(compareLabels(other, reference)).toMatchObject(unsigned);
      expect(compareLabels(reference, other).meanSignedLogprobDiff).toBeCloseTo(meanSignedLogprobDiff, 12);
      expect(compareLabels(other, reference).meanSignedLogprobDiff).toBeCloseTo(-meanSignedLogprobDiff, 12);
    }
  });

  it('gives the same verdict on sampled rows read from the encoded bytes as on decoded rows', () => {
    const encoded = (l: SoftLabels) => parseRecord(encodeSoftLabels(l));
    const rows = sampleRows([ids.length], seededRandom(3))[0]!;
    for (const other of [
      labels({ noise: 0.01, noiseSeed: 2 }),
      labels({ noise: 0.01, noiseSeed: 4, temperature: 1.4, variant: 1 }),
      labels({ noise: 0.02, noiseSeed: 9, temperature: 1.1 }),
    ]) {
      const fromBytes = compareRecordRows(encoded(reference), encoded(other), rows);
      expect(fromBytes).toEqual(compareLabels(readRows(encoded(reference), rows), readRows(encoded(other), rows)));
      expect(fromBytes.positions).toBe(rows.length);
    }
  });

  it('is symmetric', () => {
    const other = labels({ noise: 0.02, noiseSeed: 9, temperature: 1.1 });
    const ab = compareLabels(reference, other);
    const ba = compareLabels(other, reference);
    expect(ab.meanOverlap).toBeCloseTo(ba.meanOverlap, 12);
    expect(ab.meanAbsLogprobDiff).toBeCloseTo(ba.meanAbsLogprobDiff, 12);
    expect(ab.p99AbsLogprobDiff).toBe(ba.p99AbsLogprobDiff);
  });
});

describe('structural checks', () => {
  const good = labels({});
  const task = {
    taskId: 't-1',
    k: 16,
    modelHash: MODEL,
    vocabSize: 32768,
    documents: [{ docId: 'd-1', tokens: ids.length, tokenIdsChecksum: tokenIdsChecksum(ids) }],
  };

  const parsed = (l: SoftLabels) => parseRecord(encodeSoftLabels(l));
  const check = (l: SoftLabels, expected = task) =>
    checkStructure(
      [parsed(l)],
      expected,
      sampleRows(
        expected.documents.map((d) => d.tokens),
        seededRandom(1),
      ),
    );

  it('passes an honest result', () => {
    expect(check(good)).toEqual({ ok: true });
  });

  it.each([
    ['another task id', { ...task, taskId: 't-2' }, /task 't-1'/],
    ['another model', { ...task, modelHash: 'cd'.repeat(32) }, /model/],
    ['another k', { ...task, k: 8 }, /k 16/],
    ['a different tokenization', { ...task, documents: [{ ...task.documents[0]!, tokenIdsChecksum: 1 }] }, /checksum/],
    ['fewer tokens than the document has', { ...task, documents: [{ ...task.documents[0]!, tokens: ids.length + 1 }] }, /positions/],
    ['ids outside a smaller vocabulary', { ...task, vocabSize: 1000 }, /outside the vocabulary/],
  ])('rejects %s', (_name, expected, reason) => {
    const verdict = check(good, expected);
    expect(verdict.ok).toBe(false);
    expect(!verdict.ok && verdict.reason).toMatch(reason);
  });

  it('rejects top-k mass above one and repeated ids', () => {
    const heavy = { ...good, topkLogprobs: good.topkLogprobs.slice().fill(-0.5) };
    expect(check(heavy)).toMatchObject({ ok: false, reason: expect.stringMatching(/sum to/) });
    const repeated = { ...good, topkIds: good.topkIds.slice() };
    for (let p = 0; p < ids.length; p++) repeated.topkIds[p * 16 + 1] = repeated.topkIds[p * 16]!;
    expect(check(repeated)).toMatchObject({ ok: false, reason: expect.stringMatching(/repeats/) });
  });

  it('reads the same rows through random access as the full decoder', () => {
    const record = parsed(good);
    const rows = [0, 1, 7, ids.length - 1];
    expect(Array.from(readRows(record, rows).topkIds)).toEqual(rows.flatMap((p) => Array.from(good.topkIds.subarray(p * 16, p * 16 + 16))));
    expect(Array.from(readRows(record, rows).topkLogprobs)).toEqual(
      rows.flatMap((p) => Array.from(good.topkLogprobs.subarray(p * 16, p * 16 + 16))),
    );
    const corrupt = encodeSoftLabels(good);
    corrupt[200] = corrupt[200]! ^ 1;
    expect(() => parseRecord(corrupt)).toThrow(/CRC/);
    expect(() => parseRecord(corrupt.subarray(0, corrupt.length - 1))).toThrow(/bytes/);
  });
});

describe('consensus', () => {
  const clusters = (groups: number[]) => (i: number, j: number) => groups[i] === groups[j];

  it('never settles two disagreeing results, whichever came first', () => {
    expect(findConsensus(2, clusters([0, 1]))).toEqual({ kind: 'undecided' });
    expect(findConsensus(2, clusters([0, 0]))).toEqual({ kind: 'majority', winners: [0, 1], losers: [] });
  });

  it('takes the strict majority regardless of order', () => {
    for (const groups of [
      [0, 0, 1],
      [1, 0, 0],
      [0, 1, 0],
    ]) {
      const c = findConsensus(3, clusters(groups));
      expect(c.kind).toBe('majority');
      expect(c.kind === 'majority' && c.losers).toEqual([groups.indexOf(1)]);
    }
    expect(findConsensus(4, clusters([0, 0, 1, 1]))).toEqual({ kind: 'undecided' });
  });
});

describe('policies', () => {
  it('checks new and failing miners always and trusted ones less, never never', () => {
    expect(checkProbability(0)).toBe(1);
    expect(checkProbability(TRUST_STREAK - 1)).toBe(1);
    expect(checkProbability(TRUST_STREAK * 2)).toBeCloseTo(0.5);
    expect(checkProbability(1e6)).toBe(MIN_CHECK_PROBABILITY);
  });

  it('pays shares floored to whole nano and scales weights so the largest is 65535', () => {
    expect(earnedNano(1_000_000_000n, 1, 3)).toBe(333_333_333n);
    expect(earnedNano(1_000_000_000n, 0, 3)).toBe(0n);
    expect(u16Weights([{ tokens: 10 }, { tokens: 5 }, { tokens: 0 }]).map((w) => w.weight)).toEqual([65535, 32768, 0]);
  });

  it('sizes tasks to the miner speed and never above maxTokens', () => {
    const queue = Array.from({ length: 100 }, (_, i) => ({ i, tokens: 1000 }));
    expect(pickDocuments(queue, { tokensPerS: 100 })).toHaveLength(3);
    expect(pickDocuments(queue, { tokensPerS: 1 })).toHaveLength(1);
    expect(pickDocuments(queue, { tokensPerS: 1e6, maxTokens: 5500 })).toHaveLength(5);
    expect(pickDocuments(queue, { tokensPerS: 1e6 })).toHaveLength(64);
    expect(pickDocuments([{ tokens: 900 }, { tokens: 100 }], { maxTokens: 500 })).toEqual([{ tokens: 100 }]);
  });
});
