import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyModelDir } from '../../src-main/model-manager';
import { batchInputs } from '../../src-main/teacher/batcher';
import { fromHalfBits, toHalfBits } from '../../src-main/teacher/half';
import { quantizeInt4 } from '../../src-main/teacher/int4-weights';
import { INT4_BLOCK_SIZE, type MistralShape } from '../../src-main/teacher/mistral-graph';
import { modelHash } from '../../src-main/teacher/model-hash';
import { DataType, decodeModel, encodeModel, node, valueInfo } from '../../src-main/teacher/onnx-graph';
import { TeacherSession } from '../../src-main/teacher/teacher-session';
import { writeTestModels, type WrittenTestModel } from '../../src-main/teacher/test-model';
import { VARIANT_MANIFEST_FILE } from '../../src-main/teacher/variant-manifest';
import { bundleEntry } from './fixtures';
import { loadReferenceModel, referenceTopK, type ReferenceModel } from './reference-forward';

/** Not the demo's shape (hidden 64, 2 layers, 4 heads, 2 KV heads, intermediate 224). */
const SHAPE: MistralShape = {
  vocabSize: 32768,
  hiddenSize: 128,
  intermediateSize: 352,
  numLayers: 2,
  numHeads: 8,
  numKvHeads: 2,
  ropeTheta: 1e6,
  rmsNormEps: 1e-5,
};

let root: string;
let fp16: WrittenTestModel;
let int4: WrittenTestModel;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'nya-test-model-'));
  [fp16, int4] = writeTestModels({ shape: SHAPE, seed: 5, name: 'unit', out: { fp16: join(root, 'fp16'), int4: join(root, 'int4') } }) as [
    WrittenTestModel,
    WrittenTestModel,
  ];
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

function halfValues(bytes: Uint8Array): Float64Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Float64Array.from({ length: bytes.length / 2 }, (_, i) => fromHalfBits(view.getUint16(2 * i, true)));
}

/** ONNX Runtime's reading of MatMulNBits' blocks, written from its operator spec: (q − 8) · scale. */
function dequantize(packed: Uint8Array, scales: Float64Array, k: number, n: number): Float64Array {
  const blocks = k / INT4_BLOCK_SIZE;
  const out = new Float64Array(k * n);
  for (let col = 0; col < n; col++) {
    for (let row = 0; row < k; row++) {
      const b = Math.floor(row / INT4_BLOCK_SIZE);
      const i = row % INT4_BLOCK_SIZE;
      const byte = packed[(col * blocks + b) * (INT4_BLOCK_SIZE / 2) + (i >> 1)]!;
      out[row * n + col] = ((i & 1 ? byte >> 4 : byte & 15) - 8) * scales[col * blocks + b]!;
    }
  }
  return out;
}

/** The int4 folder's projections, dequantized into the fp16 names the reference reads. */
function int4Reference(dir: string): ReferenceModel {
  const model = loadReferenceModel(dir);
  const graph = decodeModel(readFileSync(join(dir, 'model.onnx'))).graph!;
  const data = readFileSync(join(dir, 'model.onnx_data'));
  const bytesOf = (name: string) => {
    const t = graph.initializer!.find((x) => x.name === name)!;
    const ext = Object.fromEntries((t.externalData ?? []).map((e) => [e.key, e.value]));
    return data.subarray(Number(ext.offset), Number(ext.offset) + Number(ext.length));
  };
  for (const n of graph.node!.filter((x) => x.opType === 'MatMulNBits')) {
    const attr = (name: string) => Number(n.attribute!.find((a) => a.name === name)!.i);
    const weight = n.input![1]!.replace(/_Q4$/, '');
    model.weights.set(weight, dequantize(bytesOf(n.input![1]!), halfValues(bytesOf(n.input![2]!)), attr('K'), attr('N')));
  }
  return model;
}

/** Deterministic ids over the whole vocabulary, BOS first. */
function tokens(length: number, seed: number): Int32Array {
  let x = seed;
  return Int32Array.from({ length }, (_, i) => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return i === 0 ? 1 : 3 + (x % 32765);
  });
}

/** Largest |Δ log-prob| of the session's top-k against the float64 reference, over ids both rank. */
async function worstDifference(model: WrittenTestModel, reference: ReferenceModel): Promise<number> {
  const session = await TeacherSession.load({ modelDir: model.dir, cacheDir: join(root, 'cache'), executionProvider: 'cpu' });
  try {
    const ids = tokens(40, 9);
    const k = 8;
    const out = await session.run(batchInputs({ docs: [{ index: 0, tokens: ids }], width: ids.length }, 0), k);
    const ref = referenceTopK(reference, ids, k + 8);
    let worst = 0;
    for (let p = 0; p < ids.length; p++) {
      for (let r = 0; r < k; r++) {
        const at = ref.ids[p]!.indexOf(out.ids[p * k + r]!);
        expect(at, `position ${p} rank ${r}: an id the reference ranks below ${k + 8}`).toBeGreaterThanOrEqual(0);
        worst = Math.max(worst, Math.abs(out.logprobs[p * k + r]! - ref.logprobs[p]![at]!));
      }
    }
    return worst;
  } finally {
    await session.release();
  }
}

describe('int4 weights for MatMulNBits', () => {
  it('are read by ONNX Runtime as the operator spec says: (q − 8) · scale per block of 32', async () => {
    const [k, n] = [64, 48];
    const bits = Uint16Array.from({ length: k * n }, (_, i) => ((i * 7919) % 0x3800) | (i % 3 === 0 ? 0x8000 : 0));
    const { packed, scales } = quantizeInt4(bits, k, n);
    // Activations and scales are fp16, as in the int4 variant (MatMulNBits binds both to one type).
    const a = Uint16Array.from({ length: 2 * k }, (_, i) => toHalfBits(Math.sin(i)));
    const graph = {
      name: 'one',
      node: [
        {
          ...node('MatMulNBits', ['a', 'b', 's'], ['y'], { K: { int: k }, N: { int: n }, bits: { int: 4 }, block_size: { int: 32 } }),
          domain: 'com.microsoft',
        },
      ],
      initializer: [
        { name: 'b', dataType: DataType.UINT8, dims: [n, k / 32, 16], rawData: packed },
        { name: 's', dataType: DataType.FLOAT16, dims: [n * (k / 32)], rawData: new Uint8Array(scales.buffer) },
      ],
      input: [valueInfo('a', DataType.FLOAT16, [2, k])],
      output: [valueInfo('y', DataType.FLOAT16, [2, n])],
    };
    const bytes = encodeModel({
      irVersion: 8,
      opsetImport: [
        { domain: '', version: 17 },
        { domain: 'com.microsoft', version: 1 },
      ],
      graph,
    });
    const session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'] });
    const y = halfValues(new Uint8Array(((await session.run({ a: new ort.Tensor('float16', a, [2, k]) })).y!.data as Uint16Array).buffer));
    await session.release();
    const w = dequantize(packed, halfValues(new Uint8Array(scales.buffer)), k, n);
    for (let r = 0; r < 2; r++)
      for (let c = 0; c < n; c++) {
        let want = 0;
        for (let i = 0; i < k; i++) want += fromHalfBits(a[r * k + i]!) * w[i * n + c]!;
        // fp16 output: 11 significant bits.
        expect(Math.abs(y[r * n + c]! - want)).toBeLessThanOrEqual(Math.abs(want) / 1024 + 1e-3);
      }
    // Symmetric blocks: the largest magnitude of each block is kept, as −8 · scale (to fp16 rounding of the scale).
    for (let c = 0; c < n; c++) {
      const column = (values: (i: number) => number) => Math.max(...Array.from({ length: 32 }, (_, i) => Math.abs(values(i))));
      const original = column((i) => fromHalfBits(bits[i * n + c]!));
      expect(Math.abs(column((i) => w[i * n + c]!) - original)).toBeLessThanOrEqual(original / 1024);
    }
  });
});

describe('a generated test model', () => {
  it('passes the model manager checks in both variants, with its tokenizer and manifest', async () => {
    for (const model of [fp16, int4]) {
      const verified = await verifyModelDir(model.dir);
      expect(verified.externalData.map((f) => f.bytes)).toEqual([model.dataBytes]);
      expect(verified.tokenizerPath).not.toBeNull();
      expect(JSON.parse(readFileSync(join(model.dir, VARIANT_MANIFEST_FILE), 'utf8'))).toMatchObject({ id: model.variantId });
    }
    expect([fp16.variantId, int4.variantId]).toEqual(['unit-fp16', 'unit-int4']);
    // Projections and the LM head cost 4 bits a weight plus an fp16 scale per 32; embedding and norms stay fp16.
    const { hiddenSize: h, intermediateSize: i, numLayers: l, vocabSize: v } = SHAPE;
    const headDim = h / SHAPE.numHeads;
    const projected = l * (2 * h * h + 2 * h * SHAPE.numKvHeads * headDim + 3 * h * i) + h * v;
    const plain = v * h + (2 * l + 1) * h;
    expect(fp16.dataBytes).toBe(2 * (projected + plain));
    expect(int4.dataBytes).toBe(projected / 2 + (2 * projected) / 32 + 2 * plain);
  });

  it('computes as real exports do: fp16 MatMuls, MatMulNBits for every projection and the LM head, no weight cast to float32', () => {
    const ops = (dir: string) => {
      const graph = decodeModel(readFileSync(join(dir, 'model.onnx'))).graph!;
      return { node: graph.node!, initializer: graph.initializer!, input: graph.input!, output: graph.output! };
    };
    const f = ops(fp16.dir);
    const q = ops(int4.dir);
    const count = (g: typeof f, op: string) => g.node.filter((n) => n.opType === op).length;
    const projections = 7 * SHAPE.numLayers + 1;
    // Attention's q·kᵀ and softmax·v stay MatMuls in both.
    expect(count(f, 'MatMul')).toBe(projections + 2 * SHAPE.numLayers);
    expect(count(q, 'MatMul')).toBe(2 * SHAPE.numLayers);
    expect(count(q, 'MatMulNBits')).toBe(projections);
    for (const g of [f, q]) {
      expect(g.node.filter((n) => n.opType === 'Cast' && /weight/.test(n.input![0]!))).toEqual([]);
      expect(g.initializer.filter((t) => t.dataType === DataType.FLOAT && Number(t.dims?.[0] ?? 1) > 64)).toEqual([]);
      expect(g.output.find((o) => o.name === 'logits')!.type!.tensorType!.elemType).toBe(DataType.FLOAT16);
      expect(g.input.find((i) => i.name === 'past_key_values.0.key')!.type!.tensorType!.elemType).toBe(DataType.FLOAT16);
    }
    expect(q.initializer.find((t) => t.name === 'model.embed_tokens.weight')!.dataType).toBe(DataType.FLOAT16);
  });

  it('labels in fp16 as the float64 reference does, within fp16 rounding', async () => {
    expect(await worstDifference(fp16, loadReferenceModel(fp16.dir))).toBeLessThan(0.05);
  });

  it('labels in int4 as the float64 reference of its dequantized weights does', async () => {
    expect(await worstDifference(int4, int4Reference(int4.dir))).toBeLessThan(0.05);
  });

  it('is deterministic from its seed, and the seed is part of the model hash', async () => {
    const again = writeTestModels({ shape: SHAPE, seed: 5, name: 'unit', out: { int4: join(root, 'again') } })[0]!;
    const other = writeTestModels({ shape: SHAPE, seed: 6, name: 'unit', out: { int4: join(root, 'other') } })[0]!;
    expect(sha256(join(again.dir, 'model.onnx_data'))).toBe(sha256(join(int4.dir, 'model.onnx_data')));
    expect(await modelHash(again.dir)).toBe(await modelHash(int4.dir));
    expect(sha256(join(other.dir, 'model.onnx_data'))).not.toBe(sha256(join(int4.dir, 'model.onnx_data')));
    expect(await modelHash(other.dir)).not.toBe(await modelHash(int4.dir));
  });

  it('refuses shapes the tokenizer, the codec or MatMulNBits cannot serve', () => {
    const write = (shape: Partial<MistralShape>) => () =>
      writeTestModels({ shape: { ...SHAPE, ...shape }, seed: 1, name: 'x', out: { fp16: join(root, 'bad') } });
    expect(write({ vocabSize: 32000 })).toThrow(/vocabulary must be 32768/);
    expect(write({ intermediateSize: 350 })).toThrow(/multiples of the int4 block size/);
    expect(write({ numKvHeads: 3 })).toThrow(/not a multiple of 3 KV heads/);
  });
});

describe('scripts/gen-test-model.ts', () => {
  it('writes the same bytes on worker threads as on one', async () => {
    const script = await bundleEntry('scripts/gen-test-model.ts', 'gen-test-model');
    const run = (out: string, threads: number) =>
      promisify(execFile)(process.execPath, [
        script,
        '--out',
        out,
        '--hidden',
        '96',
        '--heads',
        '4',
        '--layers',
        '2',
        '--intermediate',
        '256',
        '--seed',
        '3',
        '--threads',
        String(threads),
      ]);
    const [one, three] = await Promise.all([run(join(root, 'one'), 1), run(join(root, 'three'), 3)]);
    const summary = JSON.parse(one.stdout.trim().split('\n').pop()!);
    expect(summary.models.map((m: { variantId: string }) => m.variantId)).toEqual([
      'nya-test-mistral-h96-l2-s3-fp16',
      'nya-test-mistral-h96-l2-s3-int4',
    ]);
    expect(JSON.parse(three.stdout.trim().split('\n').pop()!).threads).toBe(3);
    for (const variant of ['fp16', 'int4'])
      for (const file of ['model.onnx', 'model.onnx_data', 'config.json'])
        expect(sha256(join(root, 'three', variant, file)), `${variant}/${file}`).toBe(sha256(join(root, 'one', variant, file)));
  });
});
