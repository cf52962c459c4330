import { describe, expect, it } from 'vitest';
import { applyManifest, BUILTIN_VARIANTS, fetchCatalog, ManifestError, recommendVariant } from '../../src-main/model-manager';
import { FileServer } from './file-server';

const sha = 'a'.repeat(64);
const manifest = {
  version: 1,
  variants: [
    {
      id: 'mistral-7b-instruct-v0.3-int4',
      files: [
        { name: 'model.onnx', url: 'int4/model.onnx', sha256: sha.toUpperCase(), bytes: 1000 },
        { name: 'model.onnx_data', url: 'https://mirror.example/int4/model.onnx_data', sha256: sha, bytes: 4_000_000_000 },
      ],
    },
  ],
};

describe('recommendVariant', () => {
  const id = (vram: number | null) => recommendVariant(vram).variant.id;

  it('offers fp16 to 16 GB+ cards and int4 to 6–12 GB cards', () => {
    expect(id(24576)).toBe('mistral-7b-instruct-v0.3-fp16');
    // A "16 GB" card reports a little under 16 GiB.
    expect(id(16376)).toBe('mistral-7b-instruct-v0.3-fp16');
    expect(id(12288)).toBe('mistral-7b-instruct-v0.3-int4');
    expect(id(8192)).toBe('mistral-7b-instruct-v0.3-int4');
    expect(id(6144)).toBe('mistral-7b-instruct-v0.3-int4');
    expect(recommendVariant(8192).fitsGpu).toBe(true);
    expect(recommendVariant(8192).reason).toMatch(/fits 8 GB/);
  });

  it('falls back to int4 on the CPU when nothing fits or no GPU is known, never to the demo', () => {
    for (const vram of [4096, 0, null]) {
      const r = recommendVariant(vram);
      expect(r.variant.id).toBe('mistral-7b-instruct-v0.3-int4');
      expect(r.fitsGpu).toBe(false);
      expect(r.reason).toMatch(/CPU/);
    }
  });
});

describe('model manifest', () => {
  it('fills in the files, resolving URLs against the manifest and lower-casing hashes', () => {
    const variants = applyManifest(manifest, 'https://models.example/nya/manifest.json');
    const int4 = variants.find((v) => v.id === 'mistral-7b-instruct-v0.3-int4')!;
    expect(int4.files.map((f) => f.urls[0])).toEqual([
      'https://models.example/nya/int4/model.onnx',
      'https://mirror.example/int4/model.onnx_data',
    ]);
    expect(int4.files[0]!.sha256).toBe(sha);
    expect(int4.diskBytes).toBe(4_000_001_000);
    expect(variants.find((v) => v.id === 'mistral-7b-instruct-v0.3-fp16')!.files).toEqual([]);
    expect(BUILTIN_VARIANTS.every((v) => v.files.length === 0)).toBe(true);
  });

  it('rejects unsafe names, bad hashes and duplicate files with the place of the problem', () => {
    const withFile = (file: object) => ({ version: 1, variants: [{ id: 'mistral-7b-instruct-v0.3-int4', files: [file] }] });
    const good = { name: 'model.onnx', url: 'x', sha256: sha, bytes: 1 };
    expect(() => applyManifest(withFile({ ...good, name: '../evil' }), 'https://m/x.json')).toThrow(/variants\.0\.files\.0\.name/);
    expect(() => applyManifest(withFile({ ...good, name: '/etc/passwd' }), 'https://m/x.json')).toThrow(ManifestError);
    expect(() => applyManifest(withFile({ ...good, name: 'onnx/../../x' }), 'https://m/x.json')).toThrow(ManifestError);
    expect(() => applyManifest(withFile({ ...good, sha256: 'abc' }), 'https://m/x.json')).toThrow(/sha256/);
    expect(() => applyManifest({ version: 2, variants: [] }, 'https://m/x.json')).toThrow(/version/);
    const twice = { version: 1, variants: [{ id: 'mistral-7b-instruct-v0.3-int4', files: [good, good] }] };
    expect(() => applyManifest(twice, 'https://m/x.json')).toThrow(/lists a file twice/);
    expect(applyManifest(withFile({ ...good, name: 'onnx/model.onnx' }), 'https://m/x.json')[1]!.files[0]!.name).toBe('onnx/model.onnx');
  });

  it('fetches a manifest over HTTP and reports a bad answer clearly', async () => {
    const server = new FileServer();
    server.serve('/manifest.json', Buffer.from(JSON.stringify(manifest)));
    server.serve('/broken.json', Buffer.from('<html>'));
    await server.start();
    try {
      const variants = await fetchCatalog(server.url('/manifest.json'));
      expect(variants[1]!.files[0]!.urls).toEqual([server.url('/int4/model.onnx')]);
      await expect(fetchCatalog(server.url('/broken.json'))).rejects.toThrow(/is not JSON/);
      await expect(fetchCatalog(server.url('/nothing.json'))).rejects.toThrow(/answered HTTP 404/);
    } finally {
      await server.stop();
    }
  });
});
