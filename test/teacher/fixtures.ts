import { build } from 'esbuild';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeDemoModel } from '../../src-main/teacher/demo-model';
import { DataType, decodeModel, encodeModel } from '../../src-main/teacher/onnx-graph';

const root = resolve(__dirname, '..', '..');

/**
 * The worker entry bundled as scripts/build.mjs bundles it, into the repo's ignored .cache/ so
 * that `require('onnxruntime-node')` and the package-root lookup resolve as they do from dist/.
 */
export async function bundleWorker(name: string): Promise<string> {
  const dir = join(root, '.cache', 'test-teacher');
  mkdirSync(dir, { recursive: true });
  const outfile = join(dir, `${name}-${process.pid}.cjs`);
  await build({
    entryPoints: [join(root, 'src-main/teacher/worker-entry.ts')],
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
  const words = ['the', 'miner', 'labels', 'text', 'with', 'soft', 'targets', 'from', 'a', 'teacher', 'model', 'over', 'FineWeb', 'pages', 'and', 'code'];
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
  graph.node!.push({ opType: 'Cast', input: ['logits_f32'], output: ['logits'], name: 'to_fp16', attribute: [{ name: 'to', type: 2, i: DataType.FLOAT16 }] });
  graph.output!.find((o) => o.name === 'logits')!.type!.tensorType!.elemType = DataType.FLOAT16;
  mkdirSync(join(outDir, 'onnx'), { recursive: true });
  writeFileSync(join(outDir, 'onnx', 'decoder_model.onnx'), encodeModel(model));
  copyFileSync(join(demoDir, 'config.json'), join(outDir, 'config.json'));
}
