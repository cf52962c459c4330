import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchInputs, type Batch } from '../../src-main/teacher/batcher';
import { writeDemoModel } from '../../src-main/teacher/demo-model';
import { modelHash } from '../../src-main/teacher/model-hash';
import { TeacherSession } from '../../src-main/teacher/teacher-session';
import { loadReferenceModel, referenceTopK, type ReferenceModel } from './reference-forward';

let root: string;
let modelDir: string;
let session: TeacherSession;
let reference: ReferenceModel;

/** Deterministic pseudo-text: BOS then ids spread over the whole vocabulary. */
function tokens(length: number, seed: number): Int32Array {
  const out = new Int32Array(length);
  out[0] = 1;
  let x = seed;
  for (let i = 1; i < length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = 3 + (x % 32765);
  }
  return out;
}

function rows(batch: Batch, out: { logprobs: Float32Array; ids: Int32Array }, k: number) {
  return batch.docs.map((doc, r) => ({
    index: doc.index,
    logprobs: out.logprobs.slice(r * batch.width * k, (r * batch.width + doc.tokens.length) * k),
    ids: out.ids.slice(r * batch.width * k, (r * batch.width + doc.tokens.length) * k),
  }));
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'nya-teacher-'));
  modelDir = join(root, 'demo');
  writeDemoModel(modelDir);
  session = await TeacherSession.load({ modelDir, cacheDir: join(root, 'cache'), executionProvider: 'cpu' });
  reference = loadReferenceModel(modelDir);
});

afterAll(async () => {
  await session?.release();
  rmSync(root, { recursive: true, force: true });
});

describe('TeacherSession on the demo model', () => {
  it('matches the float64 reference forward pass at every position', async () => {
    const k = 16;
    const ids = tokens(48, 7);
    const batch: Batch = { docs: [{ index: 0, tokens: ids }], width: ids.length };
    const out = await session.run(batchInputs(batch, 0), k);
    const ref = referenceTopK(reference, ids, k);
    let worst = 0;
    for (let p = 0; p < ids.length; p++) {
      for (let r = 0; r < k; r++) {
        const got = out.logprobs[p * k + r]!;
        const want = ref.logprobs[p]![r]!;
        worst = Math.max(worst, Math.abs(got - want));
        // Ranks may swap only between near-ties of the reference.
        if (out.ids[p * k + r] !== ref.ids[p]![r]) {
          const tiedWith = ref.ids[p]!.indexOf(out.ids[p * k + r]!);
          expect(tiedWith, `position ${p} rank ${r}`).toBeGreaterThanOrEqual(0);
          expect(Math.abs(ref.logprobs[p]![tiedWith]! - want)).toBeLessThan(1e-4);
        }
      }
    }
    // float32 end to end (RoPE angles, 32768-wide log-sum-exp) against float64.
    expect(worst).toBeLessThan(5e-5);
    // The labels are distributions worth learning from, not uniform noise.
    expect(out.logprobs[0]!).toBeGreaterThan(-8);
  });

  it('sends only top-k across: at most 1% of the full logits per position', async () => {
    const k = 16;
    const ids = tokens(20, 3);
    const out = await session.run(batchInputs({ docs: [{ index: 0, tokens: ids }], width: ids.length }, 0), k);
    expect(out.logprobs.length).toBe(ids.length * k);
    const perPosition = out.hostBytes / ids.length;
    expect(perPosition).toBe(k * 8);
    expect(perPosition / session.fullLogitsBytesPerPosition).toBeLessThanOrEqual(0.01);
    expect(session.fullLogitsBytesPerPosition).toBe(32768 * 4);
  });

  it('serves any k up to 64 from one extended model, sorted descending', async () => {
    const ids = tokens(10, 11);
    const batch = { docs: [{ index: 0, tokens: ids }], width: ids.length };
    const small = await session.run(batchInputs(batch, 0), 4);
    const large = await session.run(batchInputs(batch, 0), 64);
    for (let p = 0; p < ids.length; p++) {
      for (let r = 1; r < 64; r++) expect(large.logprobs[p * 64 + r]!).toBeLessThanOrEqual(large.logprobs[p * 64 + r - 1]!);
      for (let r = 0; r < 4; r++) expect(small.logprobs[p * 4 + r]).toBe(large.logprobs[p * 64 + r]);
    }
  });

  it('gives a document the same labels alone and in a mixed right-padded batch', async () => {
    const k = 16;
    const docs = [tokens(37, 1), tokens(9, 2), tokens(64, 3), tokens(1, 4), tokens(50, 5)].map((t, index) => ({ index, tokens: t }));
    // Unsorted rows of very different lengths: most rows carry padding, one carries none.
    const mixed: Batch = { docs, width: Math.max(...docs.map((d) => d.tokens.length)) };
    const together = rows(mixed, await session.run(batchInputs(mixed, 0), k), k);
    for (const doc of docs) {
      const alone = { docs: [doc], width: doc.tokens.length };
      const [single] = rows(alone, await session.run(batchInputs(alone, 0), k), k);
      const batched = together.find((r) => r.index === doc.index)!;
      expect(batched.ids).toEqual(single!.ids);
      for (let i = 0; i < single!.logprobs.length; i++) expect(Math.abs(batched.logprobs[i]! - single!.logprobs[i]!)).toBeLessThan(1e-5);
    }
  });

  it('caches the extended graph by model hash and reuses it', async () => {
    const hash = await modelHash(modelDir);
    expect(hash).toBe(session.modelHash);
    const cached = readdirSync(join(root, 'cache'));
    expect(cached).toEqual([`${hash}.topk-v1.onnx`]);
    const before = statSync(join(root, 'cache', cached[0]!)).mtimeMs;
    const again = await TeacherSession.load({ modelDir, cacheDir: join(root, 'cache'), executionProvider: 'cpu' });
    await again.release();
    expect(statSync(join(root, 'cache', cached[0]!)).mtimeMs).toBe(before);
    expect(session.folder.isDemo).toBe(true);
  });

  it('drops a damaged cached graph, so the next load rebuilds it', async () => {
    const cacheDir = join(root, 'cache-damaged');
    await (await TeacherSession.load({ modelDir, cacheDir, executionProvider: 'cpu' })).release();
    const [cached] = readdirSync(cacheDir);
    writeFileSync(join(cacheDir, cached!), Buffer.from('damaged'));
    await expect(TeacherSession.load({ modelDir, cacheDir, executionProvider: 'cpu' })).rejects.toThrow(/ONNX Runtime cannot load/);
    expect(readdirSync(cacheDir)).toEqual([]);
    await (await TeacherSession.load({ modelDir, cacheDir, executionProvider: 'cpu' })).release();
  });

  it('reports a corrupt model file as a sentence, not a stack', async () => {
    const bad = join(root, 'bad');
    writeDemoModel(bad);
    writeFileSync(join(bad, 'model.onnx'), Buffer.from('this is not protobuf at all, just text'));
    await expect(TeacherSession.load({ modelDir: bad, cacheDir: join(root, 'cache'), executionProvider: 'cpu' })).rejects.toThrow(
      /is not a valid ONNX model/,
    );
    expect(existsSync(join(root, 'missing'))).toBe(false);
    await expect(TeacherSession.load({ modelDir: join(root, 'missing'), cacheDir: join(root, 'cache') })).rejects.toThrow(/does not exist/);
  });
});
