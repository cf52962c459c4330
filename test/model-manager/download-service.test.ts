import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ModelDownloader, ModelDownloadService, type ModelDownloadState, type ModelVariant } from '../../src-main/model-manager';
import { FileServer } from './file-server';

const weights = randomBytes(256 * 1024);
let server: FileServer;
/** These downloads are plain bytes, not a model folder; the folder check has its own test below. */
const noFolderCheck = async () => undefined;
let modelsDir: string;

const variant = (sha256: string): ModelVariant => ({
  id: 'mistral-7b-instruct-v0.3-int4',
  label: 'test',
  isDemo: false,
  diskBytes: weights.length,
  minVramMiB: 0,
  modelHash: null,
  files: [{ name: 'model.onnx_data', urls: [server.url('/w')], sha256, bytes: weights.length }],
});

beforeEach(async () => {
  modelsDir = mkdtempSync(join(tmpdir(), 'nya-dl-service-'));
  server = new FileServer();
  server.serve('/w', weights);
  await server.start();
});

afterEach(async () => {
  await server.stop();
  rmSync(modelsDir, { recursive: true, force: true });
});

describe('ModelDownloadService', () => {
  it('publishes progress, then the folder', async () => {
    const service = new ModelDownloadService(
      new ModelDownloader({ modelsDir, progressIntervalMs: 0, freeBytes: async () => 1e12 }),
      noFolderCheck,
    );
    const seen: ModelDownloadState[] = [];
    service.onChange((s) => seen.push(s));
    const final = await service.download(variant(createHash('sha256').update(weights).digest('hex')));
    expect(final.status).toBe('done');
    expect(final.dir).toBe(join(modelsDir, 'mistral-7b-instruct-v0.3-int4'));
    expect(seen[0]!.status).toBe('downloading');
    expect(seen.some((s) => s.status === 'downloading' && s.file === 'model.onnx_data' && s.bytesDone > 0)).toBe(true);
    expect(service.state).toEqual(final);
    expect(JSON.parse(JSON.stringify(final))).toEqual(final);
  });

  it('turns a failure into an error state with its code, without throwing', async () => {
    const service = new ModelDownloadService(new ModelDownloader({ modelsDir, freeBytes: async () => 1e12 }), noFolderCheck);
    const final = await service.download(variant('0'.repeat(64)));
    expect(final.status).toBe('error');
    expect(final.errorCode).toBe('checksum');
    expect(final.error).toMatch(/The file was deleted/);
  });

  it('cancels on request, keeping the error a state', async () => {
    const service = new ModelDownloadService(new ModelDownloader({ modelsDir, freeBytes: async () => 1e12 }), noFolderCheck);
    const pending = service.download(variant('0'.repeat(64)));
    service.cancel();
    const final = await pending;
    expect(final.status).toBe('error');
    expect(final.errorCode).toBe('aborted');
  });
});
