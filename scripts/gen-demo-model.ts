/**
 * Writes the demo teacher (a tiny Mistral-architecture ONNX model, see src-main/teacher/demo-model.ts)
 * to dist/models/demo. Run by scripts/build.mjs; does nothing when the folder is already current.
 */
import { resolve } from 'node:path';
import { distPath } from '../src-node/app-paths';
import { demoModelIsCurrent, writeDemoModel } from '../src-main/teacher/demo-model';

const dir = resolve(process.argv[2] ?? distPath('models', 'demo'));
if (demoModelIsCurrent(dir)) {
  console.log(`gen-demo-model: ${dir} is current`);
} else {
  const started = Date.now();
  writeDemoModel(dir);
  console.log(`gen-demo-model: wrote ${dir} in ${Date.now() - started} ms`);
}
