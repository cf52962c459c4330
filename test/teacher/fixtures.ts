import { build } from 'esbuild';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeDemoModel } from '../../src-main/teacher/demo-model';
import { fromHalfBits } from '../../src-main/teacher/half';
import { DataType, decodeModel, encodeModel } from '../../src-main/teacher/onnx-graph';

const root = resolve(__dirname, '..', '..');

/**
 * The worker entry bundled as scripts/build.mjs bundles it, into the repo's ignored .cache/ so
 * that `require('onnxruntime-node')` and the package-root lookup resolve as they do from dist/.
 */
export async function bundleWorker(name: string): Promise<string> {
  return bundleEntry('src-main/teacher/worker-entry.ts', name);
}

/** Any entry (relative to the repo) bundled the same way, e.g. a script under scripts/. */
export async function bundleEntry(entry: string, name: string): Promise<string> {
  const dir = join(root, '.cache', 'test-teacher');
  mkdirSync(dir, { recursive: true });
  const outfile = join(dir, `${name}-${process.pid}.cjs`);
  await build({
    entryPoints: [join(root, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['onnxruntime-node'],
    logLevel: 'warning',
    define: { 'import.meta.url': 'importMetaUrl' },
    banner: { js: "const importMetaUrl = require('url').pathToFileURL(__filename).href;" },
  });
  return outfile;
}

/** A fresh temporary folder holding the demo model under `demo/`. */
export function tempDemoModel(prefix: string): { root: string; modelDir: string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const modelDir = join(dir, 'demo');
  writeDemoModel(modelDir);
  return { root: dir, modelDir };
}

/** Plain-English documents of varied length (a few dozen to a few hundred tokens). */
export function sampleDocuments(count: number): { docId: string; text: string }[] {
  const words = [
    'the',
    'miner',
    'labels',
    'text',
    'with',
    'soft',
    'targets',
    'from',
    'a',
    'teacher',
    'model',
    'over',
    'FineWeb',
    'pages',
    'and',
    'code',
  ];
  return Array.from({ length: count }, (_, i) => {
    const n = 8 + ((i * 37) % 40);
    const text = Array.from({ length: n }, (_, j) => words[(i * 7 + j * 3) % words.length]).join(' ');
    return { docId: `doc-${i}`, text: `${text}. Document ${i}.` };
  });
}

/**
 * The demo weights re-laid the way other exporters write them, to check that names and shapes are
 * discovered rather than assumed: weights inline (no external data), fp16 logits, the graph in
 * `onnx/decoder_model.onnx`, config.json beside it, no demo marker.
 */
export function variantExport(demoDir: string, outDir: string): void {
  const model = decodeModel(readFileSync(join(demoDir, 'model.onnx')));
  const graph = model.graph!;
  const data = readFileSync(join(demoDir, 'model.onnx_data'));
  for (const t of graph.initializer ?? []) {
    const ext = Object.fromEntries((t.externalData ?? []).map((e) => [e.key, e.value]));
    if (!ext.location) continue;
    t.rawData = data.subarray(Number(ext.offset), Number(ext.offset) + Number(ext.length));
    t.externalData = [];
    t.dataLocation = 0;
  }
  const lmHead = graph.node!.find((n) => n.output?.[0] === 'logits')!;
  lmHead.output = ['logits_f32'];
  graph.node!.push({
    opType: 'Cast',
    input: ['logits_f32'],
    output: ['logits'],
    name: 'to_fp16',
    attribute: [{ name: 'to', type: 2, i: DataType.FLOAT16 }],
  });
  graph.output!.find((o) => o.name === 'logits')!.type!.tensorType!.elemType = DataType.FLOAT16;
  mkdirSync(join(outDir, 'onnx'), { recursive: true });
  writeFileSync(join(outDir, 'onnx', 'decoder_model.onnx'), encodeModel(model));
  copyFileSync(join(demoDir, 'config.json'), join(outDir, 'config.json'));
}

/**
 * The demo model with its LM head quantized to int4 as ONNX Runtime's `MatMulNBits` (what
 * int4 exports for 8–12 GB cards use): symmetric blocks of 32, zero point 8, float32 scales.
 * Returns the dequantized head ([hidden, vocab], row-major) for the reference to use.
 */
export function int4HeadExport(demoDir: string, outDir: string): Float64Array {
  mkdirSync(outDir, { recursive: true });
  for (const f of ['model.onnx_data', 'config.json']) copyFileSync(join(demoDir, f), join(outDir, f));
  const model = decodeModel(readFileSync(join(demoDir, 'model.onnx')));
  const graph = model.graph!;
  const head = graph.initializer!.find((t) => t.name === 'lm_head.weight_t')!;
  const ext = Object.fromEntries((head.externalData ?? []).map((e) => [e.key, e.value]));
  const raw = readFileSync(join(demoDir, 'model.onnx_data')).subarray(Number(ext.offset), Number(ext.offset) + Number(ext.length));
  const [K, N] = (head.dims ?? []).map(Number) as [number, number];
  const half = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const block = 32;
  const blocks = K / block;
  const packed = new Uint8Array(N * blocks * (block / 2));
  const scales = new Float32Array(N * blocks);
  const dequant = new Float64Array(K * N);
  for (let n = 0; n < N; n++) {
    for (let b = 0; b < blocks; b++) {
      let max = 0;
      for (let i = 0; i < block; i++) max = Math.max(max, Math.abs(fromHalfBits(half.getUint16(2 * ((b * block + i) * N + n), true))));
      const scale = Math.fround(max / 7 || 1);
      scales[n * blocks + b] = scale;
      for (let i = 0; i < block; i++) {
        const k = b * block + i;
        const q = Math.min(15, Math.max(0, Math.round(fromHalfBits(half.getUint16(2 * (k * N + n), true)) / scale) + 8));
        const at = (n * blocks + b) * (block / 2) + (i >> 1);
        packed[at] = packed[at]! | (i & 1 ? q << 4 : q);
        dequant[k * N + n] = (q - 8) * scale;
      }
    }
  }
  graph.initializer = graph.initializer!.filter((t) => t !== head);
  graph.initializer.push(
    { name: 'lm_head.q4', dataType: DataType.UINT8, dims: [N, blocks, block / 2], rawData: packed },
    { name: 'lm_head.scales', dataType: DataType.FLOAT, dims: [N * blocks], rawData: new Uint8Array(scales.buffer) },
  );
  const cast = graph.node!.findIndex((n) => n.output?.[0] === 'lm_head.weight_t/f32');
  graph.node!.splice(cast, 1);
  const lmHead = graph.node!.find((n) => n.output?.[0] === 'logits')!;
  Object.assign(lmHead, {
    opType: 'MatMulNBits',
    domain: 'com.microsoft',
    input: [lmHead.input![0]!, 'lm_head.q4', 'lm_head.scales'],
    attribute: [
      { name: 'K', type: 2, i: K },
      { name: 'N', type: 2, i: N },
      { name: 'bits', type: 2, i: 4 },
      { name: 'block_size', type: 2, i: block },
    ],
  });
  model.opsetImport!.push({ domain: 'com.microsoft', version: 1 });
  writeFileSync(join(outDir, 'model.onnx'), encodeModel(model));
  return dequant;
}
