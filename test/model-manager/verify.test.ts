import { mkdtempSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ModelError, verifyModelDir, type ModelFile } from '../../src-main/model-manager';
import { bundledTokenizerPath } from '../../src-node/tokenizer';
import { DataType, encodeModel, node, valueInfo } from '../../src-main/teacher/onnx-graph';

let dir: string;

/** Two float initializers kept in model.onnx_data (16 bytes at 0, 32 bytes at 16), as Optimum's exports keep weights. */
function writeExternalDataModel(target: string): void {
  const external = (name: string, count: number, offset: number) => ({
    name,
    dataType: DataType.FLOAT,
    dims: [count],
    dataLocation: 1,
    externalData: [
      { key: 'location', value: 'model.onnx_data' },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(count * 4) },
    ],
  });
  const model = {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'external-data-test',
      node: [node('Add', ['a', 'b_head'], ['y'])],
      initializer: [external('a', 4, 0), external('b', 8, 16)],
      input: [valueInfo('b_head', DataType.FLOAT, [4])],
      output: [valueInfo('y', DataType.FLOAT, [4])],
    },
  };
  writeFileSync(join(target, 'model.onnx'), encodeModel(model));
  writeFileSync(join(target, 'model.onnx_data'), Buffer.alloc(48, 7));
}

async function failure(promise: Promise<unknown>): Promise<ModelError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ModelError);
  return error as ModelError;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nya-verify-'));
  writeExternalDataModel(dir);
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('verifyModelDir', () => {
  it('accepts a complete folder and lists the external data it needs', async () => {
    const report = await verifyModelDir(dir);
    expect(report.modelPath).toBe(join(dir, 'model.onnx'));
    expect(report.externalData).toEqual([{ path: join(dir, 'model.onnx_data'), bytes: 48, bytesNeeded: 48 }]);
    expect(report.tokenizerPath).toBeNull();
    expect(report.isDemo).toBe(false);
  });

  it('names a missing folder, graph or external-data file', async () => {
    expect((await failure(verifyModelDir(join(dir, 'nope')))).code).toBe('missing');
    unlinkSync(join(dir, 'model.onnx_data'));
    const noData = await failure(verifyModelDir(dir));
    expect(noData.code).toBe('missing');
    expect(noData.message).toMatch(/model\.onnx_data is missing/);
    unlinkSync(join(dir, 'model.onnx'));
    const noGraph = await failure(verifyModelDir(dir));
    expect(noGraph.code).toBe('missing');
    expect(noGraph.message).toMatch(/no ONNX model/);
  });

  it('calls a truncated weights file or an unreadable graph corrupt', async () => {
    truncateSync(join(dir, 'model.onnx_data'), 40);
    const truncated = await failure(verifyModelDir(dir));
    expect(truncated.code).toBe('corrupt');
    expect(truncated.message).toMatch(/truncated: 40 bytes, the graph needs at least 48/);
    writeFileSync(join(dir, 'model.onnx'), Buffer.from('this is not protobuf \xff\xff\xff\xff'));
    expect((await failure(verifyModelDir(dir))).code).toBe('corrupt');
  });

  it("loads the folder's tokenizer.json when there is one", async () => {
    writeFileSync(join(dir, 'tokenizer.json'), readFileSync(bundledTokenizerPath()));
    expect((await verifyModelDir(dir)).tokenizerPath).toBe(join(dir, 'tokenizer.json'));
    writeFileSync(join(dir, 'tokenizer.json'), '{ not json');
    const bad = await failure(verifyModelDir(dir));
    expect(bad.code).toBe('corrupt');
    expect(bad.message).toContain(join(dir, 'tokenizer.json'));
  });

  it('checks the size and hash of files a download promised', async () => {
    const data = readFileSync(join(dir, 'model.onnx_data'));
    const file: ModelFile = {
      name: 'model.onnx_data',
      urls: ['http://127.0.0.1/x'],
      bytes: 48,
      sha256: createHash('sha256').update(data).digest('hex'),
    };
    await verifyModelDir(dir, { expectedFiles: [file] });
    const wrongHash = { ...file, sha256: 'ab'.repeat(32) };
    const bad = await failure(verifyModelDir(dir, { expectedFiles: [wrongHash] }));
    expect(bad.code).toBe('corrupt');
    expect(bad.message).toMatch(/sha256 is [0-9a-f]{64}, expected (ab){32}/);
    expect((await failure(verifyModelDir(dir, { expectedFiles: [{ ...file, bytes: 49 }] }))).message).toMatch(/is 48 bytes, expected 49/);
    expect((await failure(verifyModelDir(dir, { expectedFiles: [{ ...file, name: 'tokenizer.json' }] }))).code).toBe('missing');
  });
});
