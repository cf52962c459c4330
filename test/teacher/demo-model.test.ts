import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDemoModel } from './fixtures';

let root: string;
let modelDir: string;

beforeAll(() => ({ root, modelDir } = tempDemoModel('nya-demo-bytes-')));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/**
 * The demo model's bytes are its model hash, which every demo soft label carries and the embedded
 * validator accepts: the graph builder serves other variants too, and none of that may move a byte
 * here. A deliberate change bumps DEMO_MODEL_VERSION and these digests together.
 */
const DEMO_SHA256: Record<string, string> = {
  'model.onnx': 'c3137bb09c7484d14ad2e92dd846ad3d8e9ef235d802de10dc9e1de52e996094',
  'model.onnx_data': '0e2f93aefc670203e383501a4b47b37662ad738cd796a3b17153104a6834146b',
  'config.json': 'ae2daa576c1459b8d70e9816f0384bce80c8852edbdfb0894792e10559f9b3f6',
};

describe('the demo model', () => {
  it.each(Object.entries(DEMO_SHA256))('writes %s byte for byte as before', (file, sha256) => {
    expect(
      createHash('sha256')
        .update(readFileSync(join(modelDir, file)))
        .digest('hex'),
    ).toBe(sha256);
  });
});
