import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type * as onnx from './onnx-schema';
import { writeFileAtomicSync } from '../../src-node/atomic-write';
import { toHalfBits } from './half';
import { buildMistralGraph, mistralWeights, type MistralShape, type WeightSpec } from './mistral-graph';
import { DataType, encodeModel } from './onnx-graph';
import { mulberry32 } from '../../src-shared/prng';

/**
 * The quick start's demo teacher: Mistral's architecture at toy size with deterministic weights,
 * so everything from tokenizer to codec runs without a 15 GB download. Its labels are never real
 * teacher output; the marker file says so to every reader (TeacherInfo.isDemo, the UI, validators).
 */
const DEMO_SHAPE: MistralShape = {
  vocabSize: 32768,
  hiddenSize: 64,
  intermediateSize: 224,
  numLayers: 2,
  numHeads: 4,
  numKvHeads: 2,
  ropeTheta: 1e6,
  rmsNormEps: 1e-5,
};
export const DEMO_MARKER_FILE = 'nya-demo-model.json';
/** Bump when the graph or the weights change, so builds regenerate the folder. */
const DEMO_MODEL_VERSION = 2;
const DATA_FILE = 'model.onnx_data';

const prng = mulberry32;

function seedOf(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * A weight from a uniform draw `u` in [-1, 1), with the spread a trained model roughly has:
 * unit-scale embeddings, 1/√fan-in projections, norm gains near 1, and an LM head wide enough that
 * the next-token distributions are peaked (top-1 log-probs of a few nats), not uniform over 32768
 * ids. Shared with the generated test models (test-model.ts).
 */
export function syntheticWeight(spec: WeightSpec, shape: MistralShape, u: number): number {
  if (spec.kind === 'norm') return 1 + 0.1 * u;
  const std = spec.kind === 'embedding' ? 1 : spec.kind === 'lm-head' ? 4 / Math.sqrt(shape.hiddenSize) : 1 / Math.sqrt(spec.dims[0]!);
  return u * Math.sqrt(3) * std;
}

function demoWeight(spec: WeightSpec, shape: MistralShape): Uint16Array {
  const next = prng(seedOf(spec.name));
  const count = spec.dims.reduce((a, b) => a * b, 1);
  const out = new Uint16Array(count);
  for (let i = 0; i < count; i++) out[i] = toHalfBits(syntheticWeight(spec, shape, 2 * next() - 1));
  return out;
}

/**
 * Writes model.onnx (graph), model.onnx_data (fp16 weights as external data), config.json and the
 * marker. Weights stream to disk one tensor at a time, so a 7B-shaped model (14.5 GB, for GPU
 * benchmarks) needs no more memory than its largest tensor.
 */
export function writeDemoModel(dir: string, shape: MistralShape = DEMO_SHAPE): void {
  mkdirSync(dir, { recursive: true });
  rmSync(join(dir, DEMO_MARKER_FILE), { force: true });
  const fd = openSync(join(dir, DATA_FILE), 'w');
  let offset = 0;
  let initializers: onnx.TensorProto[];
  try {
    initializers = mistralWeights(shape).map((spec) => {
      const bytes = new Uint8Array(demoWeight(spec, shape).buffer);
      for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done, bytes.length - done);
      const tensor: onnx.TensorProto = {
        name: spec.name,
        dataType: DataType.FLOAT16,
        dims: spec.dims,
        dataLocation: 1, // EXTERNAL
        externalData: [
          { key: 'location', value: DATA_FILE },
          { key: 'offset', value: String(offset) },
          { key: 'length', value: String(bytes.length) },
        ],
      };
      offset += bytes.length;
      return tensor;
    });
  } finally {
    closeSync(fd);
  }
  const model: onnx.ModelProto = {
    irVersion: 8,
    producerName: 'nya-miner demo model',
    producerVersion: String(DEMO_MODEL_VERSION),
    opsetImport: [{ domain: '', version: 17 }],
    graph: buildMistralGraph(shape, initializers),
  };
  writeFileSync(join(dir, 'model.onnx'), encodeModel(model));
  writeFileSync(join(dir, 'config.json'), `${JSON.stringify(hfConfig(shape, 'nya-miner/demo-mistral-tiny'), null, 2)}\n`);
  // The marker goes last: a folder with a current marker is a complete one.
  writeFileAtomicSync(join(dir, DEMO_MARKER_FILE), `${JSON.stringify(demoMarker(), null, 2)}\n`);
}

function demoMarker() {
  return {
    demo: true,
    version: DEMO_MODEL_VERSION,
    note: 'Tiny Mistral-architecture model with generated weights: its soft labels are not real teacher output.',
  };
}

/** True when `dir` already holds this version of the demo model. */
export function demoModelIsCurrent(dir: string): boolean {
  const marker = join(dir, DEMO_MARKER_FILE);
  if (!existsSync(marker) || !existsSync(join(dir, 'model.onnx')) || !existsSync(join(dir, DATA_FILE))) return false;
  try {
    return (JSON.parse(readFileSync(marker, 'utf8')) as { version?: number }).version === DEMO_MODEL_VERSION;
  } catch {
    return false;
  }
}

/** Hugging Face's config.json of a Mistral model of this shape (the teacher reads the KV cache's shape from it). */
export function hfConfig(shape: MistralShape, nameOrPath: string) {
  return {
    architectures: ['MistralForCausalLM'],
    model_type: 'mistral',
    vocab_size: shape.vocabSize,
    hidden_size: shape.hiddenSize,
    intermediate_size: shape.intermediateSize,
    num_hidden_layers: shape.numLayers,
    num_attention_heads: shape.numHeads,
    num_key_value_heads: shape.numKvHeads,
    head_dim: shape.hiddenSize / shape.numHeads,
    rope_theta: shape.ropeTheta,
    rms_norm_eps: shape.rmsNormEps,
    max_position_embeddings: 32768,
    bos_token_id: 1,
    eos_token_id: 2,
    hidden_act: 'silu',
    tie_word_embeddings: false,
    torch_dtype: 'float16',
    _name_or_path: nameOrPath,
  };
}
