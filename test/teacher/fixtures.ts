import { build } from 'esbuild';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeDemoModel } from '../../src-main/teacher/demo-model';

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
