import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchInputs } from '../../src-main/teacher/batcher';
import { writeDemoModel } from '../../src-main/teacher/demo-model';
import { ModelFolderError, readModelProto } from '../../src-main/teacher/model-folder';
import { decodeModel, encodeModel } from '../../src-main/teacher/onnx-graph';
import { unknownFields } from '../../src-main/teacher/protobuf-codec';
import { TeacherSession } from '../../src-main/teacher/teacher-session';
import { cacheTopKModel, TOPK_IDS } from '../../src-main/teacher/topk-graph';

// --- a few protobuf bytes by hand, for what no encoder here would write ---
function varint(n: number): number[] {
  const out: number[] = [];
  for (; n >= 128; n = Math.floor(n / 128)) out.push((n % 128) | 0x80);
  return [...out, n];
}
function lengthDelimited(field: number, body: number[]): number[] {
  return [...varint(field * 8 + 2), ...varint(body.length), ...body];
}
function text(field: number, value: string): number[] {
  return lengthDelimited(field, [...new TextEncoder().encode(value)]);
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

let root: string;
let demoDir: string;
let demoBytes: Buffer;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'nya-onnx-schema-'));
  demoDir = join(root, 'demo');
  writeDemoModel(demoDir);
  demoBytes = readFileSync(join(demoDir, 'model.onnx'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function writeModel(name: string, bytes: Uint8Array): string {
  const path = join(root, `${name}.onnx`);
  writeFileSync(path, bytes);
  return path;
}

function refusal(path: string): ModelFolderError {
  try {
    readModelProto(path);
  } catch (error) {
    expect(error).toBeInstanceOf(ModelFolderError);
    return error as ModelFolderError;
  }
  throw new Error(`${path} was accepted`);
}

describe('the demo model', () => {
  it('is written byte for byte as before the schema change, and so is its top-k graph', () => {
    // The bytes onnx-proto 8 wrote; a change here changes every demo model hash in the field.
    expect(sha256(demoBytes)).toBe('c3137bb09c7484d14ad2e92dd846ad3d8e9ef235d802de10dc9e1de52e996094');
    expect(Buffer.from(encodeModel(decodeModel(demoBytes))).equals(demoBytes)).toBe(true);
    const cached = cacheTopKModel(readModelProto(join(demoDir, 'model.onnx')), join(root, 'cache-demo'), 'demo');
    expect(sha256(readFileSync(cached))).toBe('6908990525ea7078a2a7f29d3f8f7e90c86298915a043a8ba610b9c8566354b3');
  });
});

describe('a model from a newer exporter', () => {
  /** The demo model with IR 10 fields (which IR 8 lacks) and a field no schema here knows. */
  function newerModel(): Uint8Array {
    const model = decodeModel(demoBytes);
    model.irVersion = 10;
    model.metadataProps = [{ key: 'exporter', value: 'torch.onnx dynamo' }];
    const graph = model.graph!;
    graph.metadataProps = [{ key: 'graph', value: 'kept' }];
    graph.input![0]!.metadataProps = [{ key: 'input', value: 'kept' }];
    graph.initializer![0]!.metadataProps = [{ key: 'tensor', value: 'kept' }];
    graph.node![0]!.metadataProps = [{ key: 'pkg.torch.stack', value: 'model.layers.0' }];
    graph.node![0]!.overload = '';
    // A node from a future exporter: field 12 of NodeProto is not in ONNX IR 11.
    const donor = decodeModel(
      Uint8Array.from(
        lengthDelimited(7, [
          ...lengthDelimited(1, [
            ...text(1, graph.input![0]!.name!),
            ...text(2, 'future_copy'),
            ...text(4, 'Identity'),
            ...text(12, 'future'),
          ]),
        ]),
      ),
    );
    graph.node!.unshift(donor.graph!.node![0]!);
    // ... and a model-level field past IR 11's last (26, device configurations).
    return Uint8Array.from([...encodeModel(model), ...text(90, 'model-level future field')]);
  }

  it('round-trips byte for byte, unknown fields included', () => {
    const bytes = newerModel();
    expect(Buffer.from(encodeModel(decodeModel(bytes))).equals(Buffer.from(bytes))).toBe(true);
    expect(unknownFields(decodeModel(bytes)).map((f) => f.field)).toEqual([90]);
  });

  it('keeps the fields IR 8 lacks and the unknown ones through the top-k surgery, and still runs', async () => {
    const dir = join(root, 'newer');
    writeDemoModel(dir);
    writeFileSync(join(dir, 'model.onnx'), newerModel());
    const cachedPath = cacheTopKModel(readModelProto(join(dir, 'model.onnx')), join(root, 'cache-newer'), 'newer');
    const extended = decodeModel(readFileSync(cachedPath));
    expect(extended.irVersion).toBe(10);
    expect(extended.metadataProps).toEqual([{ key: 'exporter', value: 'torch.onnx dynamo' }]);
    expect(unknownFields(extended).map((f) => Buffer.from(f.bytes).toString('latin1'))).toEqual([
      Buffer.from(text(90, 'model-level future field')).toString('latin1'),
    ]);
    const graph = extended.graph!;
    expect(graph.metadataProps).toEqual([{ key: 'graph', value: 'kept' }]);
    expect(graph.input![0]!.metadataProps).toEqual([{ key: 'input', value: 'kept' }]);
    expect(graph.initializer![0]!.metadataProps).toEqual([{ key: 'tensor', value: 'kept' }]);
    expect(graph.node![1]!.metadataProps).toEqual([{ key: 'pkg.torch.stack', value: 'model.layers.0' }]);
    expect(graph.node![1]!.overload).toBe('');
    expect(unknownFields(graph.node![0]!).map((f) => f.field)).toEqual([12]);
    expect(graph.output!.map((o) => o.name)).toContain(TOPK_IDS);

    // ONNX Runtime loads the extended graph and labels as it does the demo model's.
    const tokens = Int32Array.from([1, 1000, 2000, 3000, 17]);
    const inputs = batchInputs({ docs: [{ index: 0, tokens }], width: tokens.length }, 0);
    const labels = async (modelDir: string, cacheDir: string) => {
      const session = await TeacherSession.load({ modelDir, cacheDir: join(root, cacheDir), executionProvider: 'cpu', intraOpThreads: 1 });
      try {
        return await session.run(inputs, 4);
      } finally {
        await session.release();
      }
    };
    const [newer, demo] = [await labels(dir, 'cache-newer-session'), await labels(demoDir, 'cache-demo-session')];
    expect(Array.from(newer.ids)).toEqual(Array.from(demo.ids));
    expect(Array.from(newer.logprobs)).toEqual(Array.from(demo.logprobs));
  });
});

describe('models that would not survive re-encoding', () => {
  it('refuses an overlong number, naming the model and the byte', () => {
    expect(demoBytes.subarray(0, 2)).toEqual(Buffer.from([0x08, 0x08])); // ir_version 8
    const path = writeModel('overlong', Buffer.concat([Buffer.from([0x08, 0x88, 0x00]), demoBytes.subarray(2)]));
    const error = refusal(path);
    expect(error.message).toContain(path);
    expect(error.message).toContain('from byte 1 of');
  });

  it('refuses fields out of field-number order', () => {
    const path = writeModel('reordered', Buffer.concat([demoBytes.subarray(2), demoBytes.subarray(0, 2)]));
    expect(refusal(path).message).toMatch(/cannot be extended safely/);
  });

  it('keeps a repeated field in the unpacked form protobuf C++ writes for proto2', () => {
    // dims [2, 3] unpacked (field 1 twice), as onnx.save writes them; onnx-proto 8 packed them.
    const tensor = [...varint(8), 2, ...varint(8), 3, ...varint(16), 1, ...text(8, 'w')];
    const graphBytes = [...lengthDelimited(1, text(4, 'Identity')), ...lengthDelimited(5, tensor)];
    const bytes = Uint8Array.from([...varint(8), 10, ...lengthDelimited(7, graphBytes)]);
    const model = decodeModel(bytes);
    expect(model.graph!.initializer![0]!.dims).toEqual([2, 3]);
    expect(Array.from(encodeModel(model))).toEqual(Array.from(bytes));
  });

  it('round-trips negative and 64-bit numbers exactly', () => {
    const model = decodeModel(demoBytes);
    model.modelVersion = -5;
    model.graph!.initializer![0]!.dims = [2n ** 60n, -1];
    const again = decodeModel(encodeModel(model));
    expect(again.modelVersion).toBe(-5);
    expect(again.graph!.initializer![0]!.dims).toEqual([2n ** 60n, -1]);
  });
});
