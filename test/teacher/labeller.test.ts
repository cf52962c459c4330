import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeSoftLabels, tokenIdsChecksum } from '../../src-node/soft-labels';
import { packBatches } from '../../src-main/teacher/batcher';
import { LabelCancelledError, labelTask, type TopKRunner } from '../../src-main/teacher/labeller';
import { OutOfMemoryError, TeacherSession } from '../../src-main/teacher/teacher-session';
import { loadTokenizer, type MistralTokenizer } from '../../src-node/tokenizer';
import { sampleDocuments, tempDemoModel } from './fixtures';

let root: string;
let session: TeacherSession;
let tokenizer: MistralTokenizer;

beforeAll(async () => {
  const made = tempDemoModel('nya-labeller-');
  root = made.root;
  session = await TeacherSession.load({
    modelDir: made.modelDir,
    cacheDir: join(root, 'cache'),
    executionProvider: 'cpu',
    intraOpThreads: 1,
  });
  tokenizer = await loadTokenizer(made.modelDir);
});

afterAll(async () => {
  await session?.release();
  rmSync(root, { recursive: true, force: true });
});

/** The real session behind a device with room for `capacity` tokens per pass. */
function smallDevice(capacity: number): TopKRunner & { shapes: number[] } {
  const shapes: number[] = [];
  return {
    modelHash: session.modelHash,
    shapes,
    run(inputs, k) {
      shapes.push(inputs.rows * inputs.width);
      if (inputs.rows * inputs.width > capacity) return Promise.reject(new OutOfMemoryError('Failed to allocate memory (test device)'));
      return session.run(inputs, k);
    },
  };
}

const task = { taskId: 'task-1', k: 16, seqLen: 1024, documents: sampleDocuments(10) };

describe('labelTask', () => {
  it('labels BOS-first, truncated documents at every position, in task order', async () => {
    const docs = [
      { docId: 'short', text: 'Hello' },
      { docId: 'long', text: 'word '.repeat(400) },
      { docId: 'empty', text: '' },
    ];
    const { docs: out } = await labelTask(session, tokenizer, { taskId: 't', k: 8, seqLen: 32, documents: docs }, { maxBatchTokens: 4096 });
    expect(out.map((d) => d.docId)).toEqual(['short', 'long', 'empty']);
    for (const [i, doc] of out.entries()) {
      const ids = tokenizer.encode(docs[i]!.text, 32);
      expect(ids[0]).toBe(1);
      expect(doc.tokenCount).toBe(ids.length);
      const labels = decodeSoftLabels(doc.encoded);
      expect(labels.header.positions).toBe(ids.length);
      expect(labels.header.tokenIdsChecksum).toBe(tokenIdsChecksum(ids));
      expect(labels.topkIds.length).toBe(ids.length * 8);
    }
    expect(out[1]!.tokenCount).toBe(32);
    expect(out[2]!.tokenCount).toBe(1);
  });

  it('halves the batch budget on out-of-memory and still returns identical labels for every document', async () => {
    const roomy = await labelTask(session, tokenizer, task, { maxBatchTokens: 4096 });
    const device = smallDevice(150);
    const shrunk: number[] = [];
    const tight = await labelTask(device, tokenizer, task, {
      maxBatchTokens: 4096,
      onBatchTokens: (n) => shrunk.push(n),
    });
    expect(shrunk.length).toBeGreaterThan(0);
    expect(tight.stats.maxBatchTokens).toBeLessThanOrEqual(150);
    expect(tight.docs.map((d) => d.docId)).toEqual(roomy.docs.map((d) => d.docId));
    for (const [i, doc] of tight.docs.entries()) {
      const a = decodeSoftLabels(doc.encoded);
      const b = decodeSoftLabels(roomy.docs[i]!.encoded);
      expect(a.topkIds).toEqual(b.topkIds);
      expect(a.topkLogprobs).toEqual(b.topkLogprobs);
    }
  });

  it('fails with a clear error when one document alone does not fit', async () => {
    await expect(labelTask(smallDevice(4), tokenizer, task, { maxBatchTokens: 4096 })).rejects.toThrow(
      /does not fit on this device even alone/,
    );
  });

  it('stops between forward passes when cancelled', async () => {
    let passes = 0;
    await expect(
      labelTask(session, tokenizer, task, {
        maxBatchTokens: 40,
        onProgress: () => passes++,
        isCancelled: () => passes >= 2,
      }),
    ).rejects.toThrow(LabelCancelledError);
    expect(passes).toBe(2);
  });

  it('rejects k and sequence lengths the codec cannot carry', async () => {
    await expect(labelTask(session, tokenizer, { ...task, k: 65 }, { maxBatchTokens: 4096 })).rejects.toThrow(/k is 65/);
    await expect(labelTask(session, tokenizer, { ...task, seqLen: 0 }, { maxBatchTokens: 4096 })).rejects.toThrow(/seqLen is 0/);
  });
});

describe('packBatches', () => {
  const doc = (index: number, length: number) => ({ index, tokens: new Int32Array(length) });

  it('keeps rows × width within the budget and every document exactly once', () => {
    const docs = [doc(0, 100), doc(1, 30), doc(2, 250), doc(3, 30), doc(4, 31), doc(5, 500)];
    const batches = packBatches(docs, 256);
    for (const b of batches) {
      expect(b.width).toBe(Math.max(...b.docs.map((d) => d.tokens.length)));
      if (b.docs.length > 1) expect(b.docs.length * b.width).toBeLessThanOrEqual(256);
    }
    expect(batches.flatMap((b) => b.docs.map((d) => d.index)).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    // The 500-token document exceeds the budget alone and still gets a batch.
    expect(batches.find((b) => b.width === 500)?.docs).toHaveLength(1);
  });

  it('does not pad short documents to a long one just because the budget has room', () => {
    const docs = [doc(0, 1000), doc(1, 990), doc(2, 100), doc(3, 90), doc(4, 80)];
    const batches = packBatches(docs, 4096);
    expect(batches.map((b) => b.docs.map((d) => d.index))).toEqual([
      [0, 1],
      [2, 3, 4],
    ]);
    const padded = batches.reduce((n, b) => n + b.docs.length * b.width, 0);
    expect(padded).toBe(2 * 1000 + 3 * 100);
  });
});
