import { appendFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { variantsOf } from '../../src-main/cli/commands/validator-variants';
import { modelHash } from '../../src-main/teacher';
import { ROOT } from '../browser/nya-process';

/** `nya validator --model/--variant/--model-source/--min-vram` read into variants, on the built demo model and copies of it. */
describe('the teacher variants of nya validator flags', () => {
  const demo = resolve(ROOT, 'dist/models/demo');
  const root = mkdtempSync(join(tmpdir(), 'nya-variant-flags-'));
  let named: string;
  let unnamed: string;

  beforeAll(() => {
    // As `nya model download` leaves one: in a folder named by the variant id, no demo marker.
    named = join(root, 'mistral-7b-instruct-v0.3-int4');
    cpSync(demo, named, { recursive: true });
    rmSync(join(named, 'nya-demo-model.json'));
    appendFileSync(join(named, 'model.onnx_data'), Buffer.alloc(8));
    unnamed = join(root, 'My Export');
    cpSync(named, unnamed, { recursive: true });
    appendFileSync(join(unnamed, 'model.onnx_data'), Buffer.alloc(8));
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('names a folder by its marker or its folder name, lists its files, and takes the catalog figure and the mirrors', async () => {
    const mirror = 'https://huggingface.co/org/repo/resolve/0123456789abcdef0123456789abcdef01234567';
    const variants = await variantsOf({
      models: [demo, named],
      named: ['custom=' + unnamed],
      sources: [`mistral-7b-instruct-v0.3-int4=${mirror}`],
      minVram: ['custom=7000'],
    });
    expect(variants.map((v) => [v.id, v.minVramMiB, v.mirrors])).toEqual([
      ['demo', 0, []],
      ['mistral-7b-instruct-v0.3-int4', 5.5 * 1024, [`${mirror}/`]],
      ['custom', 7000, []],
    ]);
    expect(variants[0]!.files).toEqual(['config.json', 'model.onnx', 'model.onnx_data', 'nya-demo-model.json']);
    expect(variants[1]!.files).toEqual(['config.json', 'model.onnx', 'model.onnx_data']);
    expect(variants.map((v) => v.modelHash)).toEqual([await modelHash(demo), await modelHash(named), await modelHash(unnamed)]);
    expect(new Set(variants.map((v) => v.modelHash)).size).toBe(3);
  });

  it('estimates the GPU need of a variant the catalog does not know from its weights', async () => {
    const [custom] = await variantsOf({ models: [], named: [`custom=${unnamed}`], sources: [], minVram: [] });
    expect(custom!.minVramMiB).toBe(Math.ceil((8_610_432 + 16 + 15_841) / 2 ** 20) + 1536);
  });

  it.each([
    [{ models: [join(root, 'My Export')] }, /cannot name the variant .*--variant NAME=/],
    [{ models: [demo], sources: ['nope=https://example.org/'] }, /no variant is named 'nope'/],
    [{ models: [demo], sources: ['demo=ftp://example.org/'] }, /http\(s\) URL/],
    [{ models: [demo], sources: ['demo=https://example.org/x?download=1'] }, /without query/],
    [{ models: [demo], named: ['=x'] }, /NAME=VALUE/],
    [{ models: [demo], minVram: ['demo=lots'] }, /takes MiB/],
    [{ models: [join(root, 'missing')] }, /missing|does not exist/],
  ])('refuses %j', async (flags, message) => {
    await expect(variantsOf({ named: [], sources: [], minVram: [], ...flags })).rejects.toThrow(message);
  });

  it('refuses variants that tokenize differently', async () => {
    const other = join(root, 'other-tokenizer');
    cpSync(named, other, { recursive: true });
    cpSync(resolve(ROOT, 'assets/tokenizer/mistral-v3/tokenizer.json'), join(other, 'tokenizer.json'));
    appendFileSync(join(other, 'model.onnx_data'), Buffer.alloc(24));
    await expect(variantsOf({ models: [named], named: [`other=${other}`], sources: [], minVram: [] })).rejects.toThrow(
      /tokenize differently/,
    );
  });
});
