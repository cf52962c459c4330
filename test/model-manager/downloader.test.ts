import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ChecksumMismatchError,
  DISK_RESERVE_BYTES,
  DiskFullError,
  HttpStatusError,
  ModelDownloader,
  ModelError,
  type DownloadProgress,
  type ModelDownloaderPorts,
  type ModelVariant,
} from '../../src-main/model-manager';
import { FileServer } from './file-server';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
// Stand-ins for a model folder: a small graph file and a larger external-data file.
const graph = randomBytes(64 * 1024);
const weights = randomBytes(1536 * 1024);

let server: FileServer;
let modelsDir: string;

function variant(files: Array<{ name: string; path: string; body: Buffer; sha256?: string }>): ModelVariant {
  return {
    id: 'mistral-7b-instruct-v0.3-int4',
    label: 'test variant',
    isDemo: false,
    diskBytes: files.reduce((s, f) => s + f.body.length, 0),
    minVramMiB: 0,
    modelHash: null,
    files: files.map((f) => ({ name: f.name, urls: [server.url(f.path)], sha256: f.sha256 ?? sha256(f.body), bytes: f.body.length })),
  };
}

const twoFiles = () =>
  variant([
    { name: 'model.onnx', path: '/m/model.onnx', body: graph },
    { name: 'model.onnx_data', path: '/m/model.onnx_data', body: weights },
  ]);

function downloader(ports: Partial<ModelDownloaderPorts> = {}): ModelDownloader {
  return new ModelDownloader({
    modelsDir,
    freeBytes: async () => 10 * 1024 ** 3,
    sleep: async () => undefined,
    progressIntervalMs: 0,
    ...ports,
  });
}

async function startServer(ranges = true): Promise<void> {
  server = new FileServer({ ranges });
  server.serve('/m/model.onnx', graph);
  server.serve('/m/model.onnx_data', weights);
  await server.start();
}

beforeEach(async () => {
  modelsDir = mkdtempSync(join(tmpdir(), 'nya-models-'));
  await startServer();
});

afterEach(async () => {
  await server.stop();
  rmSync(modelsDir, { recursive: true, force: true });
});

describe('ModelDownloader', () => {
  it('downloads every file, verified, with progress, using the real free-disk check', async () => {
    const events: DownloadProgress[] = [];
    const d = new ModelDownloader({ modelsDir, progressIntervalMs: 0 });
    const dir = await d.download(twoFiles(), { onProgress: (p) => events.push(p) });
    expect(dir).toBe(join(modelsDir, 'mistral-7b-instruct-v0.3-int4'));
    expect(readFileSync(join(dir, 'model.onnx')).equals(graph)).toBe(true);
    expect(readFileSync(join(dir, 'model.onnx_data')).equals(weights)).toBe(true);
    expect(readdirSync(dir).filter((n) => n.endsWith('.part') || n.endsWith('.part.json'))).toEqual([]);
    const overall = events.map((e) => e.overall);
    expect(overall).toEqual([...overall].sort((a, b) => a - b));
    expect(overall.at(-1)).toBe(1);
    expect(events.some((e) => e.file === 'model.onnx_data' && e.bytesDone > 0 && e.bytesDone < e.bytesTotal)).toBe(true);
    expect(events.at(-1)).toEqual({
      variantId: 'mistral-7b-instruct-v0.3-int4',
      file: 'model.onnx_data',
      bytesDone: weights.length,
      bytesTotal: weights.length,
      variantBytesDone: graph.length + weights.length,
      variantBytesTotal: graph.length + weights.length,
      overall: 1,
    });

    // A second run finds both files stamped as verified and fetches nothing.
    const before = server.requests.length;
    await d.download(twoFiles());
    expect(server.requests.length).toBe(before);
  });

  it('resumes an interrupted download with a Range request and keeps the bytes it had', async () => {
    const cutAt = 600 * 1024;
    server.cuts.set('/m/model.onnx_data', [cutAt]);
    const first = downloader({ maxAttempts: 1 });
    const error = await first.download(twoFiles()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelError);
    expect((error as ModelError).code).toBe('network');
    const part = join(modelsDir, 'mistral-7b-instruct-v0.3-int4', 'model.onnx_data.part');
    const kept = statSync(part).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(cutAt);

    const dir = await downloader().download(twoFiles());
    const resumed = server.requests.filter((r) => r.path === '/m/model.onnx_data').at(-1)!;
    expect(resumed.headers.range).toBe(`bytes=${kept}-`);
    expect(resumed.headers['if-range']).toBe(`"v1-${weights.length}"`);
    expect(resumed.status).toBe(206);
    expect(resumed.bytesSent).toBe(weights.length - kept);
    expect(readFileSync(join(dir, 'model.onnx_data')).equals(weights)).toBe(true);
    expect(existsSync(part)).toBe(false);
  });

  it('retries a broken connection by itself, resuming each time', async () => {
    server.cuts.set('/m/model.onnx_data', [300 * 1024, 300 * 1024]);
    const dir = await downloader({ maxAttempts: 3 }).download(twoFiles());
    const requests = server.requests.filter((r) => r.path === '/m/model.onnx_data');
    expect(requests.map((r) => r.status)).toEqual([200, 206, 206]);
    // Resumed, never restarted: at most the bytes in flight when a connection broke come twice.
    const sent = requests.reduce((sum, r) => sum + r.bytesSent, 0);
    expect(sent).toBeGreaterThanOrEqual(weights.length);
    expect(sent).toBeLessThan(weights.length + 2 * 300 * 1024);
    expect(readFileSync(join(dir, 'model.onnx_data')).equals(weights)).toBe(true);
  });

  it('starts over when the server ignores Range', async () => {
    await server.stop();
    await startServer(false);
    server.cuts.set('/m/model.onnx_data', [500 * 1024]);
    const dir = await downloader({ maxAttempts: 2 }).download(twoFiles());
    const requests = server.requests.filter((r) => r.path === '/m/model.onnx_data');
    // It asked to resume from what reached the disk (at most what the server sent before the cut)...
    const resumedFrom = Number(/^bytes=(\d+)-$/.exec(String(requests[1]!.headers.range))?.[1]);
    expect(resumedFrom).toBeGreaterThan(0);
    expect(resumedFrom).toBeLessThanOrEqual(500 * 1024);
    // ...and, answered 200 with the whole file, wrote it from the start.
    expect(requests.map((r) => r.status)).toEqual([200, 200]);
    expect(readFileSync(join(dir, 'model.onnx_data')).equals(weights)).toBe(true);
  });

  it('starts over when the file changed on the server since the part was fetched (If-Range)', async () => {
    server.cuts.set('/m/model.onnx_data', [400 * 1024]);
    await downloader({ maxAttempts: 1 })
      .download(twoFiles())
      .catch(() => undefined);
    const changed = Buffer.from(weights);
    changed[0] = changed[0]! ^ 0xff;
    changed[weights.length - 1] = changed[weights.length - 1]! ^ 0xff;
    server.serve('/m/model.onnx_data', changed, '"v2"');
    const dir = await downloader().download(
      variant([
        { name: 'model.onnx', path: '/m/model.onnx', body: graph },
        { name: 'model.onnx_data', path: '/m/model.onnx_data', body: changed },
      ]),
    );
    expect(server.requests.at(-1)!.status).toBe(200);
    expect(readFileSync(join(dir, 'model.onnx_data')).equals(changed)).toBe(true);
  });

  it('deletes a file whose sha256 does not match and says so', async () => {
    const wrong = sha256(Buffer.from('something else'));
    const v = variant([{ name: 'model.onnx_data', path: '/m/model.onnx_data', body: weights, sha256: wrong }]);
    const error = await downloader()
      .download(v)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChecksumMismatchError);
    expect((error as ChecksumMismatchError).expectedSha256).toBe(wrong);
    expect((error as ChecksumMismatchError).actualSha256).toBe(sha256(weights));
    expect((error as Error).message).toMatch(/is corrupt: .* The file was deleted; download it again\./);
    const dir = join(modelsDir, v.id);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses to start when the disk is too full, before any request', async () => {
    const error = await downloader({ freeBytes: async () => 1024 * 1024 })
      .download(twoFiles())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DiskFullError);
    expect((error as DiskFullError).freeBytes).toBe(1024 * 1024);
    expect((error as DiskFullError).neededBytes).toBeGreaterThan(graph.length + weights.length);
    expect((error as Error).message).toMatch(/not enough free disk space/);
    expect(server.requests).toEqual([]);
  });

  it('counts bytes already downloaded when checking free space', async () => {
    server.cuts.set('/m/model.onnx_data', [1024 * 1024]);
    await downloader({ maxAttempts: 1 })
      .download(twoFiles())
      .catch(() => undefined);
    // What reached the disk before the cut (under load, a little less than was sent).
    const kept = statSync(join(modelsDir, 'mistral-7b-instruct-v0.3-int4', 'model.onnx_data.part')).size;
    expect(kept).toBeGreaterThan(0);
    let asked = 0;
    const free = async () => {
      asked++;
      return DISK_RESERVE_BYTES + weights.length - kept; // Enough for the rest only.
    };
    await downloader({ freeBytes: free }).download(twoFiles());
    expect(asked).toBe(1);
  });

  it('reports an HTTP error status with the URL', async () => {
    const v = variant([{ name: 'model.onnx', path: '/missing.onnx', body: graph }]);
    const error = await downloader()
      .download(v)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpStatusError);
    expect((error as HttpStatusError).status).toBe(404);
    expect((error as Error).message).toContain(server.url('/missing.onnx'));
  });

  it('stops when aborted and keeps the part for later', async () => {
    const controller = new AbortController();
    const error = await downloader()
      .download(twoFiles(), {
        signal: controller.signal,
        onProgress: (p) => {
          if (p.file === 'model.onnx_data' && p.bytesDone > 0) controller.abort();
        },
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelError);
    expect((error as ModelError).code).toBe('aborted');
    expect(existsSync(join(modelsDir, 'mistral-7b-instruct-v0.3-int4', 'model.onnx'))).toBe(true);
    expect(existsSync(join(modelsDir, 'mistral-7b-instruct-v0.3-int4', 'model.onnx_data'))).toBe(false);
  });

  it('explains that a variant without a manifest has nothing to download', async () => {
    const v = { ...twoFiles(), files: [] };
    await expect(downloader().download(v)).rejects.toThrow(/no download source is configured/);
  });
});
