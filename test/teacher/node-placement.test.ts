import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchInputs } from '../../src-main/teacher/batcher';
import { nodePlacement } from '../../src-main/teacher/node-placement';
import { TeacherSession } from '../../src-main/teacher/teacher-session';
import { tempDemoModel } from './fixtures';

let root: string;
let modelDir: string;

beforeAll(() => ({ root, modelDir } = tempDemoModel('nya-placement-')));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const event = (node: string, op: string, provider: string) => ({
  cat: 'Node',
  name: `${node}_kernel_time`,
  args: { op_name: op, provider },
});

describe('node placement from an ONNX Runtime profile', () => {
  it('names the heavy nodes a CUDA session ran on the CPU, and not its shape arithmetic', () => {
    const profile = [
      { cat: 'Session', name: 'model_loading_array' },
      event('/MatMul_1', 'MatMul', 'CUDAExecutionProvider'),
      event('/MatMul_1', 'MatMul', 'CUDAExecutionProvider'),
      event('/MatMulNBits_2', 'MatMulNBits', 'CPUExecutionProvider'),
      event('/Shape_3', 'Shape', 'CPUExecutionProvider'),
      event('/Softmax_4', 'Softmax', 'CUDAExecutionProvider'),
    ];
    const placement = nodePlacement(profile, 'cuda');
    expect(placement.heavyNodes).toBe(3);
    expect(placement.heavyElsewhere).toEqual([{ node: '/MatMulNBits_2', op: 'MatMulNBits', provider: 'CPUExecutionProvider' }]);
    expect(placement.byProvider).toEqual({
      CUDAExecutionProvider: { MatMul: 1, Softmax: 1 },
      CPUExecutionProvider: { MatMulNBits: 1, Shape: 1 },
    });
    expect(() => nodePlacement({}, 'cuda')).toThrow(/not a JSON array/);
  });

  it('reads the profile a teacher session writes', async () => {
    const session = await TeacherSession.load({
      modelDir,
      cacheDir: join(root, 'cache'),
      executionProvider: 'cpu',
      profileFilePrefix: join(root, 'profile'),
    });
    const tokens = Int32Array.from([1, 20, 300, 4000]);
    await session.run(batchInputs({ docs: [{ index: 0, tokens }], width: tokens.length }, 0), 8);
    session.endProfiling();
    await session.release();
    const file = readdirSync(root).find((f) => f.startsWith('profile'))!;
    const placement = nodePlacement(JSON.parse(readFileSync(join(root, file), 'utf8')), 'cpu');
    // 7 projections per layer and the LM head, however ONNX Runtime fused them, plus attention and the top-k head.
    expect(placement.heavyNodes).toBeGreaterThanOrEqual(2 * 7 + 1);
    expect(placement.heavyElsewhere).toEqual([]);
    expect(Object.keys(placement.byProvider)).toEqual(['CPUExecutionProvider']);
  });
});
