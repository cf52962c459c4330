import { closeSync, copyFileSync, ftruncateSync, mkdirSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type * as onnx from './onnx-schema';
import { writeFileAtomicSync } from '../../src-node/atomic-write';
import { bundledTokenizerPath } from '../../src-node/tokenizer';
import { hfConfig, syntheticWeight } from './demo-model';
import { toHalfBits } from './half';
import { quantizeInt4 } from './int4-weights';
import { buildMistralGraph, INT4_BLOCK_SIZE, int4WeightNames, mistralWeights, type MistralShape, type WeightSpec } from './mistral-graph';
import { DataType, encodeModel } from './onnx-graph';
import { VARIANT_MANIFEST_FILE, type VariantManifest } from './variant-manifest';

/**
 * Test teachers: Mistral-architecture models of any shape with seeded random weights, laid out as
 * an Optimum export (`model.onnx` + `model.onnx_data`, config.json, the Mistral v0.3 tokenizer files),
 * in the two variants a network serves: `fp16` and `int4` (MatMulNBits), both from the same fp16
 * weights (`GraphPrecision` in mistral-graph.ts). Unlike the demo model they compute as real
 * exports do, so they stand in for the 7B variants in tests (a whole network on one machine) and
 * on GPUs (a 7B shape for `scripts/gpu-check.sh`). Their labels are never real teacher output.
 *
 * Weights stream to disk one tensor at a time: memory holds the largest tensor (the 7B shape's
 * embedding, 268 MB), never the model.
 */
export type TestModelPrecision = 'fp16' | 'int4';

const DATA_FILE = 'model.onnx_data';
/** Bump when the graph or the weights' recipe changes: it is in the graph, so in the model hash. */
const GENERATOR_VERSION = 1;
/** The soft-label codec keeps 15 bits of token id, and the Mistral v0.3 tokenizer uses all 32768. */
const VOCAB_SIZE = 32768;

export interface TestModelOptions {
  shape: MistralShape;
  seed: number;
  /** The folder each variant is written to; at least one. */
  out: Partial<Record<TestModelPrecision, string>>;
  /** Variant ids are `${name}-fp16` and `${name}-int4`. */
  name: string;
  /** GPU memory each variant asks for in its manifest; the default estimates it from the weights. */
  minVramMiB?: Partial<Record<TestModelPrecision, number>>;
}

export interface WrittenTestModel {
  dir: string;
  variantId: string;
  precision: TestModelPrecision;
  dataBytes: number;
}

/** Mistral-7B-v0.3's shape (hidden 4096, 32 layers, 32 heads, 8 KV heads, intermediate 14336). */
export const MISTRAL_7B_SHAPE: MistralShape = {
  vocabSize: VOCAB_SIZE,
  hiddenSize: 4096,
  intermediateSize: 14336,
  numLayers: 32,
  numHeads: 32,
  numKvHeads: 8,
  ropeTheta: 1e6,
  rmsNormEps: 1e-5,
};

/** Why a shape cannot be generated, or null. */
function testShapeProblem(shape: MistralShape): string | null {
  const { hiddenSize: h, intermediateSize: i, numHeads, numKvHeads } = shape;
  if (shape.vocabSize !== VOCAB_SIZE) return `the vocabulary must be ${VOCAB_SIZE} (the Mistral v0.3 tokenizer's ids, the codec's 15 bits)`;
  for (const [name, v] of Object.entries({ hiddenSize: h, intermediateSize: i, numLayers: shape.numLayers, numHeads, numKvHeads })) {
    if (!Number.isInteger(v) || v < 1) return `${name} must be a positive whole number`;
  }
  if (h % numHeads !== 0) return `hidden size ${h} is not a multiple of ${numHeads} heads`;
  if ((h / numHeads) % 2 !== 0) return `the head size ${h / numHeads} must be even (rotary halves)`;
  if (numHeads % numKvHeads !== 0) return `${numHeads} heads are not a multiple of ${numKvHeads} KV heads`;
  if (h % INT4_BLOCK_SIZE !== 0 || i % INT4_BLOCK_SIZE !== 0)
    return `hidden and intermediate sizes must be multiples of the int4 block size ${INT4_BLOCK_SIZE}`;
  return null;
}

/** FNV-1a of the name mixed with the seed: every tensor its own stream, reproducible from (seed, name). */
function tensorSeed(seed: number, name: string): number {
  let h = 0x811c9dc5 ^ Math.imul(seed >>> 0, 0x9e3779b1);
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * A tensor's fp16 bits: each draw picks one of 65536 evenly spaced quantiles of the tensor's
 * uniform distribution (`syntheticWeight`), two draws per mulberry32 step. A table look-up instead
 * of a float conversion per weight is what makes 7 B weights take seconds rather than minutes.
 */
function randomWeights(spec: WeightSpec, shape: MistralShape, seed: number): Uint16Array {
  const table = new Uint16Array(65536);
  for (let j = 0; j < table.length; j++) table[j] = toHalfBits(syntheticWeight(spec, shape, ((j + 0.5) / 65536) * 2 - 1));
  const out = new Uint16Array(spec.dims.reduce((a, b) => a * b, 1));
  let a = tensorSeed(seed, spec.name);
  for (let i = 0; i < out.length; i += 2) {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    t ^= t >>> 14;
    out[i] = table[t & 0xffff]!;
    if (i + 1 < out.length) out[i + 1] = table[(t >>> 16) & 0xffff]!;
  }
  return out;
}

/** Where one tensor's bytes go in one variant's data file. */
interface TensorSlot {
  name: string;
  dataType: number;
  dims: number[];
  offset: number;
  bytes: number;
}

/**
 * Every tensor's place in each variant's data file, known from the shape alone, so tensors can be
 * made in any order, by several threads, each writing at its own offsets.
 */
export interface TestModelPlan {
  opts: TestModelOptions;
  specs: WeightSpec[];
  /** Per variant, per spec: the slots it fills (one, or an int4 projection's packed blocks and scales). */
  slots: Partial<Record<TestModelPrecision, TensorSlot[][]>>;
  dataBytes: Partial<Record<TestModelPrecision, number>>;
}

function isQuantized(spec: WeightSpec): boolean {
  return spec.kind === 'projection' || spec.kind === 'lm-head';
}

function tensorSlots(spec: WeightSpec, precision: TestModelPrecision): Omit<TensorSlot, 'offset'>[] {
  const count = spec.dims.reduce((a, b) => a * b, 1);
  if (precision === 'fp16' || !isQuantized(spec))
    return [{ name: spec.name, dataType: DataType.FLOAT16, dims: spec.dims, bytes: 2 * count }];
  const [k, n] = spec.dims as [number, number];
  const blocks = k / INT4_BLOCK_SIZE;
  const names = int4WeightNames(spec.name);
  return [
    { name: names.packed, dataType: DataType.UINT8, dims: [n, blocks, INT4_BLOCK_SIZE / 2], bytes: (n * k) / 2 },
    { name: names.scales, dataType: DataType.FLOAT16, dims: [n * blocks], bytes: 2 * n * blocks },
  ];
}

export function planTestModels(opts: TestModelOptions): TestModelPlan {
  const problem = testShapeProblem(opts.shape);
  if (problem) throw new RangeError(`cannot generate this shape: ${problem}`);
  const precisions = (['fp16', 'int4'] as const).filter((p) => opts.out[p]);
  if (precisions.length === 0) throw new RangeError('no output folder: give out.fp16, out.int4 or both');
  const specs = mistralWeights(opts.shape);
  const plan: TestModelPlan = { opts, specs, slots: {}, dataBytes: {} };
  for (const precision of precisions) {
    let offset = 0;
    plan.slots[precision] = specs.map((spec) =>
      tensorSlots(spec, precision).map((slot) => {
        const placed = { ...slot, offset };
        offset += slot.bytes;
        return placed;
      }),
    );
    plan.dataBytes[precision] = offset;
  }
  return plan;
}

/** Empties each variant's folder of a previous model's manifest and sizes its data file; returns the open files. */
export function openTestModelData(plan: TestModelPlan, flags: 'w' | 'r+' = 'w'): Partial<Record<TestModelPrecision, number>> {
  const fds: Partial<Record<TestModelPrecision, number>> = {};
  for (const precision of ['fp16', 'int4'] as const) {
    const dir = plan.opts.out[precision];
    if (!dir) continue;
    if (flags === 'w') {
      mkdirSync(dir, { recursive: true });
      rmSync(join(dir, VARIANT_MANIFEST_FILE), { force: true });
    }
    fds[precision] = openSync(join(dir, DATA_FILE), flags);
    if (flags === 'w') ftruncateSync(fds[precision], plan.dataBytes[precision]);
  }
  return fds;
}

export function closeTestModelData(fds: Partial<Record<TestModelPrecision, number>>): void {
  for (const fd of Object.values(fds)) closeSync(fd);
}

function writeAt(fd: number, data: Uint8Array | Uint16Array, slot: TensorSlot): void {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (bytes.length !== slot.bytes) throw new Error(`internal: ${slot.name} is ${bytes.length} bytes, its slot ${slot.bytes}`);
  for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done, bytes.length - done, slot.offset + done);
}

/** Makes tensor `index` from the seed and writes it into every variant's data file at its offsets. */
export function writeTestModelTensor(plan: TestModelPlan, index: number, fds: Partial<Record<TestModelPrecision, number>>): void {
  const spec = plan.specs[index]!;
  const weights = randomWeights(spec, plan.opts.shape, plan.opts.seed);
  if (fds.fp16 !== undefined) writeAt(fds.fp16, weights, plan.slots.fp16![index]![0]!);
  if (fds.int4 === undefined) return;
  const slots = plan.slots.int4![index]!;
  if (slots.length === 1) return writeAt(fds.int4, weights, slots[0]!);
  const { packed, scales } = quantizeInt4(weights, spec.dims[0]!, spec.dims[1]!);
  writeAt(fds.int4, packed, slots[0]!);
  writeAt(fds.int4, scales, slots[1]!);
}

/** Weights, KV cache of 1024 tokens at batch 4, and a margin for activations and the CUDA context. */
function estimateVramMiB(shape: MistralShape, dataBytes: number): number {
  const kvBytes = 2 * shape.numLayers * 4 * 1024 * shape.numKvHeads * (shape.hiddenSize / shape.numHeads) * 2;
  return Math.ceil((dataBytes * 1.1 + kvBytes) / 2 ** 20) + 512;
}

function initializers(slots: TensorSlot[][]): onnx.TensorProto[] {
  return slots.flat().map((slot) => ({
    name: slot.name,
    dataType: slot.dataType,
    dims: slot.dims,
    dataLocation: 1, // EXTERNAL
    externalData: [
      { key: 'location', value: DATA_FILE },
      { key: 'offset', value: String(slot.offset) },
      { key: 'length', value: String(slot.bytes) },
    ],
  }));
}

function writeFolder(plan: TestModelPlan, precision: TestModelPrecision): WrittenTestModel {
  const { shape, seed, name } = plan.opts;
  const dir = plan.opts.out[precision]!;
  const dataBytes = plan.dataBytes[precision]!;
  const variantId = `${name}-${precision}`;
  const model: onnx.ModelProto = {
    irVersion: 8,
    producerName: 'nya-miner test model',
    producerVersion: String(GENERATOR_VERSION),
    opsetImport: [{ domain: '', version: 17 }, ...(precision === 'int4' ? [{ domain: 'com.microsoft', version: 1 }] : [])],
    // The model hash covers the graph and the data files' sizes, not their bytes: the seed goes
    // into the graph, so two seeds of one shape are two models.
    metadataProps: [
      { key: 'nya.generator', value: `test-model v${GENERATOR_VERSION}` },
      { key: 'nya.seed', value: String(seed) },
    ],
    graph: buildMistralGraph(shape, initializers(plan.slots[precision]!), precision),
  };
  writeFileSync(join(dir, 'model.onnx'), encodeModel(model));
  writeFileSync(join(dir, 'config.json'), `${JSON.stringify(hfConfig(shape, `nya-miner/${variantId}`), null, 2)}\n`);
  for (const file of ['tokenizer.json', 'tokenizer_config.json'])
    copyFileSync(join(dirname(bundledTokenizerPath()), file), join(dir, file));
  const manifest: VariantManifest = {
    id: variantId,
    label: `Generated test model ${name} (${precision}, random weights: not real teacher output)`,
    minVramMiB: plan.opts.minVramMiB?.[precision] ?? estimateVramMiB(shape, dataBytes),
    precision,
    seed,
  };
  // The manifest goes last: a folder with one is complete.
  writeFileAtomicSync(join(dir, VARIANT_MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return { dir, variantId, precision, dataBytes };
}

/** The graphs, configs, tokenizer files and manifests, once every tensor is in its data file. */
export function finishTestModels(plan: TestModelPlan): WrittenTestModel[] {
  return (['fp16', 'int4'] as const).filter((p) => plan.opts.out[p]).map((p) => writeFolder(plan, p));
}

/** Writes the requested variants of one seeded model on this thread; each tensor is made once for both. */
export function writeTestModels(opts: TestModelOptions): WrittenTestModel[] {
  const plan = planTestModels(opts);
  const fds = openTestModelData(plan);
  try {
    for (let i = 0; i < plan.specs.length; i++) writeTestModelTensor(plan, i, fds);
  } finally {
    closeTestModelData(fds);
  }
  return finishTestModels(plan);
}
