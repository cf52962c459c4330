import { appendFileSync, cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { variantsOf } from '../../src-main/cli/commands/validator-variants';
import { ModelDownloader, verifyModelDir } from '../../src-main/model-manager';
import { fetchValidatorVariants } from '../../src-main/model-manager/validator-variants';
import { modelHash } from '../../src-main/teacher';
import { MISTRAL_7B_SHAPE, writeTestModels, type WrittenTestModel } from '../../src-main/teacher/test-model';
import { VARIANT_MANIFEST_FILE } from '../../src-main/teacher/variant-manifest';
import { API, type ModelResponse } from '../../src-shared/protocol';
import { startValidator } from '../../src-validator/index';
import { ROOT } from '../browser/nya-process';

const flags = (models: string[], more: Partial<Parameters<typeof variantsOf>[0]> = {}) =>
  variantsOf({ models, named: [], sources: [], minVram: [], ...more });

/** `nya validator --model/--variant/--model-source/--min-vram` read into variants, on the built demo model and copies of it. */
describe('the teacher variants of nya validator flags', () => {
  const demo = resolve(ROOT, 'dist/models/demo');
  const root = mkdtempSync(join(tmpdir(), 'nya-variant-flags-'));
  let named: string;
  let unnamed: string;
  let generated: WrittenTestModel[];

  beforeAll(() => {
    // As `nya model download` leaves one: in a folder named by the variant id, no demo marker.
    named = join(root, 'mistral-7b-instruct-v0.3-int4');
    cpSync(demo, named, { recursive: true });
    rmSync(join(named, 'nya-demo-model.json'));
    appendFileSync(join(named, 'model.onnx_data'), Buffer.alloc(8));
    unnamed = join(root, 'My Export');
    cpSync(named, unnamed, { recursive: true });
    appendFileSync(join(unnamed, 'model.onnx_data'), Buffer.alloc(8));
    generated = writeTestModels({
      shape: { ...MISTRAL_7B_SHAPE, hiddenSize: 64, intermediateSize: 128, numLayers: 1, numHeads: 4, numKvHeads: 2 },
      seed: 7,
      name: 'flags-test',
      out: { fp16: join(root, 'gen', 'fp16'), int4: join(root, 'gen', 'int4') },
      minVramMiB: { fp16: 20_000, int4: 5000 },
    });
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
    // Every miner has the demo bundled: accepted, never listed for download.
    expect(variants[0]!.files).toEqual([]);
    expect(variants[1]!.files).toEqual(['config.json', 'model.onnx', 'model.onnx_data']);
    expect(variants.map((v) => v.modelHash)).toEqual([await modelHash(demo), await modelHash(named), await modelHash(unnamed)]);
    expect(new Set(variants.map((v) => v.modelHash)).size).toBe(3);
  });

  it("takes a folder's id, label and GPU need from its nya-variant.json, the flags still overriding", async () => {
    const [fp16, int4] = generated.map((m) => m.dir);
    const listed = await flags([fp16!, int4!]);
    expect(listed.map((v) => [v.id, v.minVramMiB])).toEqual([
      ['flags-test-fp16', 20_000],
      ['flags-test-int4', 5000],
    ]);
    expect(listed[0]!.label).toMatch(/^Generated test model flags-test \(fp16/);
    expect(listed[0]!.files).toEqual([
      'config.json',
      'model.onnx',
      'model.onnx_data',
      VARIANT_MANIFEST_FILE,
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    const overridden = await flags([], { named: [`renamed=${fp16}`], minVram: ['renamed=9000'] });
    expect(overridden.map((v) => [v.id, v.minVramMiB])).toEqual([['renamed', 9000]]);

    const broken = join(root, 'broken-manifest');
    cpSync(fp16!, broken, { recursive: true });
    writeFileSync(join(broken, VARIANT_MANIFEST_FILE), JSON.stringify({ id: 'Not An Id', label: 'x', minVramMiB: 1 }));
    await expect(flags([broken])).rejects.toThrow(/nya-variant\.json: id/);
  });

  it('serves a folder a miner downloaded from another validator as the same variant (round trip)', async () => {
    const first = await startValidator({ port: 0, dataDir: join(root, 'validator-a'), variants: await flags([generated[1]!.dir]) });
    let catalogA: ModelResponse;
    let downloaded: string;
    try {
      catalogA = (await (await fetch(`${first.url}${API.model}`)).json()) as ModelResponse;
      const [offered] = await fetchValidatorVariants(first.url);
      downloaded = await new ModelDownloader({ modelsDir: join(root, 'miner', 'models') }).download(offered!);
      await verifyModelDir(downloaded, { expectedFiles: offered!.files, rehash: true });
    } finally {
      await first.close();
    }
    // What the downloader leaves beside the files: only its sha256 stamps, which are not served.
    expect(readdirSync(downloaded).filter((f) => !catalogA.variants[0]!.files.some((x) => x.path === f))).toEqual(
      catalogA.variants[0]!.files.map((f) => `${f.path}.sha256`).sort(),
    );
    const second = await startValidator({ port: 0, dataDir: join(root, 'validator-b'), variants: await flags([downloaded]) });
    try {
      const catalogB = (await (await fetch(`${second.url}${API.model}`)).json()) as ModelResponse;
      expect(catalogB).toEqual(catalogA);
      expect(catalogB.variants.map((v) => [v.id, v.minVramMiB, v.modelHash])).toEqual([
        ['flags-test-int4', 5000, await modelHash(generated[1]!.dir)],
      ]);
    } finally {
      await second.close();
    }
  });

  it('lists nothing for the demo model: a validator with only --allow-demo offers no download, and miners run their bundled copy', async () => {
    const v = await startValidator({
      port: 0,
      dataDir: join(root, 'validator-demo'),
      variants: await flags([demo]),
      allowDemoModel: true,
      demoModelHash: await modelHash(demo),
    });
    try {
      expect(await (await fetch(`${v.url}${API.model}`)).json()).toEqual({ variants: [] });
      expect(await fetchValidatorVariants(v.url)).toEqual([]);
      expect((await fetch(`${v.url}${API.modelFile('demo', 'model.onnx')}`)).status).toBe(404);
    } finally {
      await v.close();
    }
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
