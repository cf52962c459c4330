import { describe, expect, it } from 'vitest';
import { decodeSoftLabels, encodeResultBundle, encodeSoftLabels, tokenIdsChecksum, type SoftLabels } from '../../src-node/soft-labels';
import { fakeLabels, fakeTokenizer } from '../../src-validator/bench/sim/fake-teacher';
import { compareLabels, compareResults } from '../../src-validator/verify/agreement';
import { sampleRows } from '../../src-validator/verify/record-rows';
import { parseBundle } from '../../src-validator/verify/result-checks';
import { seededRandom } from './harness';

/**
 * Fakes that keep most of an honest result and cheat on the part the agreement check used to
 * leave alone: the lower half of each row, a small systematic bias, coarse log-probs, a made-up end
 * of each document. Each is built from an honest labeling (σ 0.01 nats jitter) and compared with
 * another honest replica through the path the validator runs: the codec, `parseBundle`,
 * `sampleRows` and `compareResults`.
 */

const K = 16;
const MODEL = 'ab'.repeat(32);
const tokenizer = fakeTokenizer();
const WORDS = 'the cat sat on a mat while rain fell over quiet hills and rivers ran toward distant seas under grey skies'.split(' ');

function documentsOf(wordCounts: number[]): Int32Array[] {
  return wordCounts.map((words, d) => {
    const rand = seededRandom(100 + d);
    const text = Array.from({ length: words }, () => WORDS[Math.floor(rand() * WORDS.length)]).join(' ');
    return tokenizer.encode(text, 1024);
  });
}

/** A spread of lengths up to the context limit (301-1024 positions): over 128, so rows are sampled. */
const documents = documentsOf([300, 420, 700, 1023]);
const positions = documents.map((ids) => ids.length);

/** One honest miner's labels for every document, as decoded from the codec. */
function honestTask(noise: number, noiseSeed: number, docs = documents): SoftLabels[] {
  return docs.map((ids, d) => {
    const { topkIds, topkLogprobs } = fakeLabels(ids, { k: K, noise, noiseSeed: noiseSeed * 31 + d });
    const header = {
      taskId: 't-1',
      docId: `d-${d}`,
      modelHash: MODEL,
      k: K,
      positions: ids.length,
      tokenIdsChecksum: tokenIdsChecksum(ids),
    };
    return decodeSoftLabels(encodeSoftLabels({ header, topkIds, topkLogprobs }));
  });
}

function bundle(labels: SoftLabels[]): Uint8Array {
  return encodeResultBundle(labels.map((l) => encodeSoftLabels(l)));
}

/** Distinct made-up ids (one per 600-wide band from 20000 up) in place of ranks `from`..k-1. */
function madeUpIds(l: SoftLabels, p: number, from: number, rand: () => number): void {
  for (let r = from; r < K; r++) l.topkIds[p * K + r] = 20000 + r * 600 + Math.floor(rand() * 600);
}

type Fake = (labels: SoftLabels[], rand: () => number) => SoftLabels[];

function edit(labels: SoftLabels[], change: (l: SoftLabels) => void): SoftLabels[] {
  return labels.map((l) => {
    const copy = { header: l.header, topkIds: l.topkIds.slice(), topkLogprobs: l.topkLogprobs.slice() };
    change(copy);
    return copy;
  });
}

const randomTail =
  (from: number): Fake =>
  (labels, rand) =>
    edit(labels, (l) => {
      for (let p = 0; p < l.header.positions; p++) madeUpIds(l, p, from, rand);
    });

const shifted =
  (nats: number): Fake =>
  (labels) =>
    edit(labels, (l) => {
      for (let c = 0; c < l.topkLogprobs.length; c++) l.topkLogprobs[c] = l.topkLogprobs[c]! - nats;
    });

const rounded =
  (nats: number): Fake =>
  (labels) =>
    edit(labels, (l) => {
      for (let c = 0; c < l.topkLogprobs.length; c++) l.topkLogprobs[c] = Math.min(0, Math.round(l.topkLogprobs[c]! / nats) * nats);
    });

/** The last `fraction` of every document (at least one position): made-up ids under the true log-probs. */
const madeUpSuffix =
  (fraction: number): Fake =>
  (labels, rand) =>
    edit(labels, (l) => {
      const n = l.header.positions;
      for (let p = n - Math.max(1, Math.ceil(fraction * n)); p < n; p++) madeUpIds(l, p, 0, rand);
    });

const madeUpPrefix =
  (fraction: number): Fake =>
  (labels, rand) =>
    edit(labels, (l) => {
      for (let p = 0; p < Math.max(1, Math.ceil(fraction * l.header.positions)); p++) madeUpIds(l, p, 0, rand);
    });

/** Each part smaller than the fakes above: random ids at ranks 15-16, -0.02 nats, a 0.05-nat grid, the last 1 % made up. */
const combined: Fake = (labels, rand) => madeUpSuffix(0.01)(rounded(0.05)(shifted(0.02)(randomTail(14)(labels, rand), rand), rand), rand);

/** Each fake and the check that catches it (the first to fail; docs/PROTOCOL.md "Why these tolerances"). */
const FAKES: [string, Fake, RegExp][] = [
  ['the true top 8 with random ids at ranks 9-16', randomTail(8), /ids missing or ranked elsewhere/],
  ['every log-prob shifted by -0.04 nats', shifted(0.04), /a bias beyond/],
  ['log-probs rounded to 0.1 nats', rounded(0.1), /on a grid coarser/],
  ['the last 2 % of every document made up', madeUpSuffix(0.02), /positions share under half/],
  ['the first 2 % of every document made up', madeUpPrefix(0.02), /positions share under half/],
  ['a combined subtle fake', combined, /./],
];

const reference = parseBundle(bundle(honestTask(0.01, 1)));
const honestBase = honestTask(0.01, 2);

describe('fakes that cheat on part of every row', () => {
  it.each(FAKES)('rejects %s on every sampled comparison', (_name, fake, reason) => {
    const rand = seededRandom(7);
    const faked = parseBundle(bundle(fake(honestBase, rand)));
    const trials = 200;
    let caught = 0;
    for (let t = 0; t < trials; t++) {
      const verdict = compareResults(reference, faked, sampleRows(positions, rand));
      if (!verdict.agree && reason.test(verdict.reason!)) caught++;
    }
    // Caught with probability 1 per comparison by construction (docs/PROTOCOL.md): 200 seeded
    // trials would show a sampled miss.
    expect(caught / trials).toBeGreaterThanOrEqual(0.99);
  });

  it.each(FAKES)('rejects %s on the full document too', (_name, fake) => {
    const faked = fake(honestBase, seededRandom(8));
    const ref = honestTask(0.01, 1);
    expect(faked.every((l, d) => !compareLabels(ref[d]!, l).agree)).toBe(true);
  });

  it('catches a made-up 1 % suffix, below the guaranteed 2/128, in most comparisons still', () => {
    const rand = seededRandom(9);
    const faked = parseBundle(bundle(madeUpSuffix(0.01)(honestBase, rand)));
    let caught = 0;
    for (let t = 0; t < 200; t++) if (!compareResults(reference, faked, sampleRows(positions, rand)).agree) caught++;
    expect(caught / 200).toBeGreaterThan(0.5);
  });
});

describe('honest miners with fp16 jitter', () => {
  it('agree in at least 99.9 % of 2016 comparisons of sampled rows', () => {
    // 64 honest labelings, half at σ 0.01 nats per logit (another GPU), half at σ 0.03 (a noisier
    // fp16 kernel), of a task with short and long documents; every pair compared once on fresh rows.
    const docs = documentsOf([8, 40, 120, 300, 1023]);
    const pool = Array.from({ length: 64 }, (_, i) => parseBundle(bundle(honestTask(i % 2 ? 0.03 : 0.01, 1000 + i, docs))));
    const rand = seededRandom(11);
    const lengths = docs.map((ids) => ids.length);
    let comparisons = 0;
    let agreed = 0;
    const reasons: string[] = [];
    for (let i = 0; i < pool.length; i++) {
      for (let j = i + 1; j < pool.length; j++) {
        comparisons++;
        const verdict = compareResults(pool[i]!, pool[j]!, sampleRows(lengths, rand));
        if (verdict.agree) agreed++;
        else reasons.push(verdict.reason!);
      }
    }
    expect(comparisons).toBe(2016);
    expect(agreed / comparisons, reasons.slice(0, 3).join('; ')).toBeGreaterThanOrEqual(0.999);
  });
});
