import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLabel } from '../../src-main/cli/commands/label';
import { loadTokenizer } from '../../src-node/tokenizer';
import { int4HeadExport, tempDemoModel, variantExport } from './fixtures';
import { loadReferenceModel, referenceTopK, type ReferenceModel } from './reference-forward';

let root: string;
let modelDir: string;
let reference: ReferenceModel;

beforeAll(() => {
  ({ root, modelDir } = tempDemoModel('nya-label-'));
  reference = loadReferenceModel(modelDir);
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

async function label(argv: string[], input: string) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runLabel([...argv, '--cache', join(root, 'cache'), '--ep', 'cpu'], {
    stdin: [Buffer.from(input)],
    stdout: (l) => out.push(l),
    stderr: (l) => err.push(l),
  });
  return { code, out: out.map((l) => JSON.parse(l)), err: err.join('\n') };
}

const input = [
  { id: 'a', text: 'The quick brown fox jumps over the lazy dog.' },
  { id: 7, text: 'def f(x):\n    return x * 2  # 二倍 🐈' },
  { id: 'c', text: '' },
]
  .map((d) => JSON.stringify(d))
  .join('\n');

/** Every position's top-k against the float64 reference, allowing the codec's rounding and `extra`. */
function expectMatchesReference(
  line: { token_ids: number[]; topk_ids: number[][]; topk_logprobs: number[][] },
  k: number,
  extra: number,
  model: ReferenceModel = reference,
) {
  // A few ranks more than k: a near-tie at rank k may bring in the reference's rank k + 1.
  const ref = referenceTopK(model, line.token_ids, k + 4);
  for (let p = 0; p < line.token_ids.length; p++) {
    for (let r = 0; r < k; r++) {
      expect(Math.abs(line.topk_logprobs[p]![r]! - ref.logprobs[p]![r]!)).toBeLessThanOrEqual(1 / 256 + extra);
      const id = line.topk_ids[p]![r]!;
      if (id !== ref.ids[p]![r]) {
        const at = ref.ids[p]!.indexOf(id);
        expect(at).toBeGreaterThanOrEqual(0);
        expect(Math.abs(ref.logprobs[p]![at]! - ref.logprobs[p]![r]!)).toBeLessThan(2 * extra + 1e-4);
      }
    }
  }
}

describe('nya label', () => {
  it('writes one JSON line per document with labels at every position, matching the reference', async () => {
    const { code, out, err } = await label(['--model', modelDir, '--k', '8', '--seq-len', '24'], input);
    expect(code).toBe(0);
    expect(err).toMatch(/demo model: not real teacher output/);
    expect(out.map((l) => l.id)).toEqual(['a', 7, 'c']);
    const tokenizer = await loadTokenizer(modelDir);
    for (const [i, line] of out.entries()) {
      expect(line.token_ids).toEqual(Array.from(tokenizer.encode(JSON.parse(input.split('\n')[i]!).text, 24)));
      expect(line.topk_ids).toHaveLength(line.token_ids.length);
      expect(line.topk_logprobs.every((row: number[]) => row.length === 8)).toBe(true);
      expectMatchesReference(line, 8, 1e-4);
    }
    expect(out[2].token_ids).toEqual([1]);
  });

  it('is as right on an export laid out differently (inline weights, fp16 logits, onnx/ subfolder)', async () => {
    const variant = join(root, 'variant');
    variantExport(modelDir, variant);
    const { code, out, err } = await label(['--model', variant, '--k', '4'], input);
    expect(code).toBe(0);
    expect(err).not.toMatch(/not real teacher output/);
    // fp16 logits carry about 3 significant digits: |logit| ≲ 20 rounds by up to 0.01.
    for (const line of out) expectMatchesReference(line, 4, 0.02);
  });

  it('runs an int4 (MatMulNBits) export, matching the reference with the same dequantized weights', async () => {
    const int4 = join(root, 'int4');
    const head = int4HeadExport(modelDir, int4);
    const { code, out } = await label(['--model', int4, '--k', '4'], input);
    expect(code).toBe(0);
    const dequantized = { ...reference, weights: new Map(reference.weights).set('lm_head.weight_t', head) };
    for (const line of out) expectMatchesReference(line, 4, 1e-4, dequantized);
  });

  it('fails on a corrupt model with exit code 1 and one clear sentence', async () => {
    const made = tempDemoModel('nya-label-corrupt-');
    writeFileSync(join(made.modelDir, 'model.onnx'), Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]));
    const { code, out, err } = await label(['--model', made.modelDir], input);
    rmSync(made.root, { recursive: true, force: true });
    expect(code).toBe(1);
    expect(out).toEqual([]);
    expect(err).toMatch(/model\.onnx is not a valid ONNX model .*download it again/);
    expect(err).not.toMatch(/\n\s+at /);
  });

  it('rejects malformed input before labelling anything', async () => {
    const { code, out, err } = await label(['--model', modelDir], `${JSON.stringify({ id: 'a', text: 'ok' })}\n{"id": "b", "text": 5}\n`);
    expect(code).toBe(2);
    expect(out).toEqual([]);
    expect(err).toMatch(/line 2 needs/);
    expect((await label(['--model', modelDir, '--k', '65'], input)).err).toMatch(/--k must be a whole number from 1 to 64/);
    expect((await label(['--model', join(root, 'nowhere')], input)).err).toMatch(/does not exist/);
  });
});
