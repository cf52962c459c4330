import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { API, type ModelVariantInfo } from '../../src-shared/protocol';
import { ModelDownloader, recommendVariant } from '../../src-main/model-manager';
import { fetchValidatorVariants, sourceFileUrl, variantFromValidator } from '../../src-main/model-manager/validator-variants';
import { FileServer } from './file-server';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const info = (id: string, minVramMiB: number, sources: string[] = [`/v1/model/files/${id}/`]): ModelVariantInfo => ({
  id,
  label: id,
  modelHash: 'a'.repeat(64),
  minVramMiB,
  files: [{ path: 'model.onnx', bytes: 10, sha256: 'b'.repeat(64) }],
  sources,
});

describe("a validator's teacher variants", () => {
  it('resolve a relative source under the validator, keeping its path prefix, and encode file paths', () => {
    expect(sourceFileUrl('/v1/model/files/x/', 'onnx/model.onnx', 'https://v.example/nya/')).toBe(
      'https://v.example/nya/v1/model/files/x/onnx/model.onnx',
    );
    expect(sourceFileUrl('https://hf.example/org/repo/resolve/0123abc', 'model.onnx_data', 'https://v.example')).toBe(
      'https://hf.example/org/repo/resolve/0123abc/model.onnx_data',
    );
    expect(sourceFileUrl('files', 'a b.json', 'http://127.0.0.1:9')).toBe('http://127.0.0.1:9/files/a%20b.json');
    // A source this client cannot fetch is left out; the others remain.
    const v = variantFromValidator(info('x', 0, ['ftp://mirror.example/x/', '/v1/model/files/x/']), 'https://v.example');
    expect(v.files[0]!.urls).toEqual(['https://v.example/v1/model/files/x/model.onnx']);
  });

  it('choose the largest variant that fits the GPU, int4 for a 6 GB card, the smallest without a GPU', () => {
    const variants = [info('t-int4', 5632), info('t-fp16', 15360)].map((i) => variantFromValidator(i, 'https://v.example'));
    expect(recommendVariant(24576, variants).variant.id).toBe('t-fp16');
    expect(recommendVariant(6144, variants).variant.id).toBe('t-int4');
    expect(recommendVariant(null, variants)).toMatchObject({ variant: { id: 't-int4' }, fitsGpu: false });
  });

  describe('from GET /v1/model', () => {
    let server: FileServer;
    beforeEach(async () => {
      server = new FileServer();
      await server.start();
    });
    afterEach(() => server.stop());

    it('parse the answer, and an old validator without the endpoint offers none', async () => {
      const base = server.url('');
      await expect(fetchValidatorVariants(base)).resolves.toEqual([]);
      server.serve(API.model, Buffer.from(JSON.stringify({ variants: [info('t-int4', 5632)] })));
      const [v] = await fetchValidatorVariants(`${base}/`);
      expect(v).toMatchObject({ id: 't-int4', diskBytes: 10, modelHash: 'a'.repeat(64), isDemo: false });
      expect(v!.files[0]).toEqual({
        name: 'model.onnx',
        bytes: 10,
        sha256: 'b'.repeat(64),
        urls: [server.url('/v1/model/files/t-int4/model.onnx')],
      });
    });

    it('refuse a malformed list with the field, and say when the validator cannot be reached', async () => {
      server.serve(
        API.model,
        Buffer.from(
          JSON.stringify({ variants: [{ ...info('x', 0), files: [{ path: '../etc/passwd', bytes: 1, sha256: 'b'.repeat(64) }] }] }),
        ),
      );
      await expect(fetchValidatorVariants(server.url(''))).rejects.toThrow(/malformed teacher list at variants\.0\.files\.0\.path/);
      await expect(fetchValidatorVariants('http://127.0.0.1:1')).rejects.toThrow(
        /cannot ask http:\/\/127\.0\.0\.1:1\/v1\/model which teacher to run/,
      );
    });
  });
});

describe('downloading from several sources', () => {
  const weights = randomBytes(200 * 1024);
  let server: FileServer;
  let modelsDir: string;
  beforeEach(async () => {
    modelsDir = mkdtempSync(join(tmpdir(), 'nya-sources-'));
    server = new FileServer();
    server.serve('/good/model.onnx_data', weights);
    server.serve('/bad/model.onnx_data', Buffer.alloc(weights.length, 7));
    await server.start();
  });
  afterEach(async () => {
    await server.stop();
    rmSync(modelsDir, { recursive: true, force: true });
  });
  const variant = (...sources: string[]) => ({
    id: 't-int4',
    label: 't',
    isDemo: false,
    diskBytes: weights.length,
    minVramMiB: 0,
    modelHash: null,
    files: [{ name: 'model.onnx_data', bytes: weights.length, sha256: sha(weights), urls: sources.map((s) => `${s}model.onnx_data`) }],
  });
  const downloader = () => new ModelDownloader({ modelsDir, freeBytes: async () => 1e12, retryDelayMs: 1 });

  it('falls back past a source that is unreachable, one that answers 404 and one whose bytes do not match', async () => {
    const dir = await downloader().download(
      variant('http://127.0.0.1:1/', server.url('/missing/'), server.url('/bad/'), server.url('/good/')),
    );
    expect(readFileSync(join(dir, 'model.onnx_data')).equals(weights)).toBe(true);
    expect(server.requests.map((r) => [r.path, r.status])).toEqual([
      ['/missing/model.onnx_data', 404],
      ['/bad/model.onnx_data', 200],
      ['/good/model.onnx_data', 200],
    ]);
  });

  it('names every source that failed when none delivers, and keeps nothing unverified', async () => {
    const error = await downloader()
      .download(variant(server.url('/missing/'), server.url('/bad/')))
      .catch((e: unknown) => e as Error);
    expect((error as Error).message).toMatch(/no source could deliver model\.onnx_data: .*404.*\/ .*is corrupt/);
    expect(readdirSync(join(modelsDir, 't-int4'))).toEqual([]);
  });

  it('resumes a part from one source at another: the sha256 pins the bytes', async () => {
    server.serve('/other/model.onnx_data', weights, '"another-server"');
    server.cuts.set('/good/model.onnx_data', [weights.length / 2]);
    const d = new ModelDownloader({ modelsDir, freeBytes: async () => 1e12, maxAttempts: 1 });
    await expect(d.download(variant(server.url('/good/')))).rejects.toThrow(/broke|closed/);
    await d.download(variant(server.url('/other/'), server.url('/good/')));
    const resumed = server.requests.at(-1)!;
    expect(resumed.path).toBe('/other/model.onnx_data');
    expect(resumed.headers.range).toBe(`bytes=${weights.length / 2}-`);
    // The first server's ETag means nothing to the second.
    expect(resumed.headers['if-range']).toBeUndefined();
    expect(resumed.status).toBe(206);
    expect(readFileSync(join(modelsDir, 't-int4', 'model.onnx_data')).equals(weights)).toBe(true);
  });
});
