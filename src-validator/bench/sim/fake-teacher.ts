import { encodeSoftLabels, tokenIdsChecksum, type SoftLabels } from '../../../src-node/soft-labels';
import type { Recomputer } from '../../service/context';
import type { Tokenizer } from '../../tasks/tokenizer';

/**
 * A deterministic stand-in for the teacher, for tests and the benchmark: the top-k at a position
 * is a function of the two tokens before it, with the shape real next-token distributions have
 * (a dominant top-1, gaps that widen, most mass in the top few, the rest in a long tail). `noise`
 * adds per-miner jitter to the logits, like fp16 kernels on different GPUs; `temperature` and
 * `variant` make a systematically different ("smaller") model.
 */
export interface FakeTeacherOptions {
  k: number;
  vocabSize?: number;
  /** Standard deviation of logit jitter in nats (an honest GPU: ~0.01). */
  noise?: number;
  noiseSeed?: number;
  temperature?: number;
  /** Another model family: different candidates beyond the top few. */
  variant?: number;
}

function mix(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be59b, 0xc2b2ae35);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return h >>> 0;
}

function unit(h: number): number {
  return h / 4294967296;
}

/** Labels for one document's token ids (one row per id: position t predicts token t + 1). */
export function fakeLabels(ids: Int32Array, opts: FakeTeacherOptions): { topkIds: Int32Array; topkLogprobs: Float32Array } {
  const { k } = opts;
  const vocab = opts.vocabSize ?? 32768;
  const temperature = opts.temperature ?? 1;
  const variant = opts.variant ?? 0;
  const noise = opts.noise ?? 0;
  let noiseState = mix(opts.noiseSeed ?? 1, 0x1234) | 1;
  const gaussian = (): number => {
    noiseState = mix(noiseState, 0xabcdef);
    const u1 = unit(noiseState) || 1e-9;
    noiseState = mix(noiseState, 0x13579b);
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * unit(noiseState));
  };
  const positions = ids.length;
  const topkIds = new Int32Array(positions * k);
  const topkLogprobs = new Float32Array(positions * k);
  const candIds = new Int32Array(k);
  const logits = new Float64Array(k);
  const order = Array.from({ length: k }, (_, i) => i);
  for (let p = 0; p < positions; p++) {
    const context = mix(ids[p]!, p > 0 ? ids[p - 1]! : -1);
    let logit = 0;
    for (let r = 0; r < k; r++) {
      // Past rank 3 a different model family proposes different tokens.
      const h = mix(context, r >= 3 && variant ? r + 1000 * variant : r);
      let id = h % vocab;
      for (let s = 0; s < r; s++) if (candIds[s] === id) id = (id + 1 + r) % vocab;
      candIds[r] = id;
      logits[r] = logit / temperature + (noise ? noise * gaussian() : 0);
      logit -= 0.15 + 1.2 * unit(mix(h, 7)) * (r < 2 ? 1.5 : 0.6);
    }
    const tail = -(0.3 + 3 * unit(mix(context, 99))) / temperature;
    let z = Math.exp(tail);
    for (let r = 0; r < k; r++) z += Math.exp(logits[r]!);
    const logZ = Math.log(z);
    order.sort((a, b) => logits[b]! - logits[a]!);
    for (let r = 0; r < k; r++) {
      topkIds[p * k + r] = candIds[order[r]!]!;
      topkLogprobs[p * k + r] = Math.min(0, logits[order[r]!]! - logZ);
    }
  }
  return { topkIds, topkLogprobs };
}

/** Whitespace words hashed into the vocabulary, BOS = 1 first: enough to exercise checksums. */
export function fakeTokenizer(vocabSize = 32768): Tokenizer {
  return {
    vocabSize,
    encode(text: string, seqLen?: number): Int32Array {
      const words = text.split(/\s+/).filter(Boolean);
      const n = Math.min(words.length + 1, seqLen ?? Number.MAX_SAFE_INTEGER);
      const ids = new Int32Array(n);
      ids[0] = 1;
      for (let i = 1; i < n; i++) {
        let h = 0x811c9dc5;
        const w = words[i - 1]!;
        for (let c = 0; c < w.length; c++) h = Math.imul(h ^ w.charCodeAt(c), 0x01000193);
        ids[i] = 3 + ((h >>> 0) % (vocabSize - 3));
      }
      return ids;
    },
  };
}

export interface FakeTask {
  taskId: string;
  k: number;
  seqLen: number;
  modelHash?: string;
  documents: { docId: string; text: string }[];
}

/** The decoded-shape labels an honest miner with this teacher would send for a task. */
export function labelTask(task: FakeTask, modelHash: string, tokenizer: Tokenizer, opts: Omit<FakeTeacherOptions, 'k'> = {}): SoftLabels[] {
  return task.documents.map((doc) => {
    const ids = tokenizer.encode(doc.text, task.seqLen);
    const { topkIds, topkLogprobs } = fakeLabels(ids, { ...opts, k: task.k, vocabSize: tokenizer.vocabSize });
    return {
      header: {
        taskId: task.taskId,
        docId: doc.docId,
        modelHash,
        k: task.k,
        positions: ids.length,
        tokenIdsChecksum: tokenIdsChecksum(ids),
      },
      topkIds,
      topkLogprobs,
    };
  });
}

/** A Recomputer backed by the fake teacher (its own jitter, like the validator's own GPU). */
export function fakeRecomputer(
  modelHash: string,
  tokenizer: Tokenizer,
  opts: Omit<FakeTeacherOptions, 'k'> = { noise: 0.01, noiseSeed: 424242 },
): Recomputer & { calls: number } {
  const recomputer = {
    calls: 0,
    async label(task: FakeTask) {
      recomputer.calls++;
      return labelTask(task, modelHash, tokenizer, opts).map((l) => ({ docId: l.header.docId, encoded: encodeSoftLabels(l) }));
    },
  };
  return recomputer;
}
