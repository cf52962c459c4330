import { describe, expect, it } from 'vitest';
import { encodeSoftLabels, type SoftLabels } from '../../src-node/soft-labels';
import { MIN_AUDIT_PREFIX_POSITIONS } from '../../src-validator/config';
import { auditProbability, pickAudit } from '../../src-validator/service/audit-policy';
import { labelTask } from '../../src-validator/bench/sim/fake-teacher';
import { compareRecordPrefix } from '../../src-validator/verify/agreement';
import { parseRecord } from '../../src-validator/verify/record-rows';
import { documents, MODEL_HASH, seededRandom, tokenizer } from './harness';

/*
 * An audit compares every row of a re-computed prefix with the kept labels. Honest labels from
 * another GPU (fp16-like jitter) must pass as they do against another miner; made-up rows inside
 * the prefix must not.
 */

const SEQ_LEN = 1024;
const K = 16;
const docs = documents(6, 'audit', 1100);

function labelled(doc: { docId: string; text: string }, seqLen: number, noise: number, noiseSeed: number): SoftLabels {
  return labelTask({ taskId: 't', k: K, seqLen, documents: [doc] }, MODEL_HASH, tokenizer, { noise, noiseSeed })[0]!;
}

const parsed = (l: SoftLabels) => parseRecord(encodeSoftLabels(l));

describe('audit of a prefix', () => {
  it('honest labels with fp16-like noise pass at least 99.9 % of audits (σ 0.01 and 0.03 against the teacher’s 0.01)', () => {
    const random = seededRandom(17);
    let audits = 0;
    const failures: string[] = [];
    for (let trial = 0; trial < 1000; trial++) {
      const doc = docs[trial % docs.length]!;
      const miner = labelled(doc, SEQ_LEN, trial % 2 ? 0.03 : 0.01, 1000 + trial);
      const { prefixPositions } = pickAudit([miner.header.positions], random);
      const teacher = labelled(doc, prefixPositions, 0.01, 5000 + trial);
      const verdict = compareRecordPrefix(parsed(miner), parsed(teacher));
      audits++;
      if (!verdict.agree) failures.push(`${trial}: ${verdict.reason}`);
    }
    console.log(`honest audits: ${audits - failures.length} of ${audits} passed`);
    expect(failures.length / audits, failures.join('\n')).toBeLessThanOrEqual(0.001);
  });

  it('made-up labels inside the prefix fail; a prefix longer than the record is a different shape', () => {
    const doc = docs[0]!;
    const honest = labelled(doc, SEQ_LEN, 0.01, 1);
    const teacher = labelled(doc, 300, 0.01, 2);
    // The colluders' fabrication: another model's labels from position 200 on.
    const other = labelTask({ taskId: 't', k: K, seqLen: SEQ_LEN, documents: [doc] }, MODEL_HASH, tokenizer, { variant: 3 })[0]!;
    const spliced: SoftLabels = {
      header: honest.header,
      topkIds: Int32Array.from(honest.topkIds, (id, c) => (c >= 200 * K ? other.topkIds[c]! : id)),
      topkLogprobs: Float32Array.from(honest.topkLogprobs, (lp, c) => (c >= 200 * K ? other.topkLogprobs[c]! : lp)),
    };
    expect(compareRecordPrefix(parsed(honest), parsed(teacher)).agree).toBe(true);
    expect(compareRecordPrefix(parsed(spliced), parsed(teacher)).agree).toBe(false);
    // The same fabrication past the audited prefix is not seen by this audit (the random length decides).
    expect(compareRecordPrefix(parsed(spliced), parsed(labelled(doc, 190, 0.01, 2))).agree).toBe(true);
    const short = labelled(doc, 100, 0.01, 3);
    expect(compareRecordPrefix(parsed(short), parsed(teacher))).toMatchObject({ agree: false, reason: 'different shapes' });
  });

  it('picks prefixes of at least the minimum length, up to the whole document, uniformly', () => {
    const random = seededRandom(3);
    const lengths = Array.from({ length: 4000 }, () => pickAudit([1024], random).prefixPositions);
    expect(Math.min(...lengths)).toBe(MIN_AUDIT_PREFIX_POSITIONS);
    expect(Math.max(...lengths)).toBe(1024);
    const mean = lengths.reduce((s, n) => s + n, 0) / lengths.length;
    expect(Math.abs(mean - (MIN_AUDIT_PREFIX_POSITIONS + 1024) / 2)).toBeLessThan(15);
    expect(pickAudit([40], random).prefixPositions).toBe(40);
  });

  it('audits with the probability that re-computes the share of credited tokens, and at least the per-key floor', () => {
    const odds = { share: 0.01, documentPositions: [1024, 1024], creditedTokens: 2 * 2048, auditsPerKey: 0, keyTasksInWindow: [500, 900] };
    // E[prefix] of a 1024-position document is (128 + 1024) / 2 = 576.
    expect(auditProbability(odds)).toBeCloseTo((0.01 * 4096) / 576, 6);
    expect(auditProbability({ ...odds, auditsPerKey: 3, keyTasksInWindow: [20, 900] })).toBeCloseTo(3 / 20, 6);
    expect(auditProbability({ ...odds, auditsPerKey: 3 })).toBeCloseTo((0.01 * 4096) / 576, 6);
    expect(auditProbability({ ...odds, auditsPerKey: 3, keyTasksInWindow: [2, 900] })).toBe(1);
    expect(auditProbability({ ...odds, share: 0 })).toBe(0);
  });
});
