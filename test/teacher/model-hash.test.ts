import { createHash } from 'node:crypto';
import { appendFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelHash } from '../../src-main/teacher/model-hash';
import { tempDemoModel, variantExport } from './fixtures';

let root: string;
let modelDir: string;

beforeAll(() => ({ root, modelDir } = tempDemoModel('nya-hash-')));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('modelHash', () => {
  it('is sha256sum of model.onnx for a model without external data', async () => {
    const inline = join(root, 'inline');
    variantExport(modelDir, inline);
    expect(await modelHash(inline)).toBe(sha256(readFileSync(join(inline, 'onnx', 'decoder_model.onnx'))));
  });

  it('covers the graph bytes and the external data files by name and size', async () => {
    const before = await modelHash(modelDir);
    expect(before).toMatch(/^[0-9a-f]{64}$/);
    expect(before).not.toBe(sha256(readFileSync(join(modelDir, 'model.onnx'))));
    expect(await modelHash(modelDir)).toBe(before);
    appendFileSync(join(modelDir, 'model.onnx_data'), Buffer.alloc(16));
    expect(await modelHash(modelDir)).not.toBe(before);
  });
});
