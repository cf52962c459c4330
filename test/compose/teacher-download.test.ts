import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { StateSnapshot } from '../../src-shared/state';
import { createServices, type Services, type ServicesOptions } from '../../src-main/compose/services';
import { KeyStore, passphraseBox } from '../../src-main/wallet';
import { LogHub } from '../../src-node/log';
import { startTeacherServer } from '../model-manager/teacher-server';
import type { FileServer } from '../model-manager/file-server';

const PASS = 'correct horse battery staple';

/** Resolves the first snapshot that satisfies `ok`; fails with the last one seen. */
function snapshotWhere(services: Services, ok: (s: StateSnapshot) => boolean, timeoutMs = 60_000): Promise<StateSnapshot> {
  return new Promise((resolve, reject) => {
    const check = (s: StateSnapshot) => {
      if (!ok(s)) return false;
      clearTimeout(timer);
      subscription.dispose();
      resolve(s);
      return true;
    };
    const timer = setTimeout(() => {
      subscription.dispose();
      const s = services.state.get();
      reject(new Error(`timed out; miner: ${s.miner.status} ${s.miner.reason}; download: ${JSON.stringify(s.modelDownload)}`));
    }, timeoutMs);
    const subscription = services.state.onChange(check);
    check(services.state.get());
  });
}

/**
 * A fresh data folder, a validator URL and no model: the miner asks the validator which teacher
 * to run, downloads the variant that fits its (declared) GPU from the first source that answers,
 * verifies it and loads it. The validator here is a file server speaking `GET /v1/model`.
 */
describe('the miner gets its teacher from the validator', () => {
  let dataDir: string;
  let server: FileServer | null = null;
  let services: Services | null = null;
  let reasons: string[] = [];
  afterEach(async () => {
    await services?.dispose();
    await server?.stop();
    services = null;
    server = null;
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function start(options: Partial<ServicesOptions>, serverUrl: string): Promise<Services> {
    await new KeyStore({ dataDir, box: passphraseBox(PASS) }).create();
    services = await createServices({
      dataDir,
      log: new LogHub(),
      gpuMonitor: null,
      secretBox: passphraseBox(PASS),
      settingsOverrides: { validatorUrl: serverUrl },
      ...options,
    });
    // Every status line the miner shows, from the first: a fast local download passes some in a blink.
    reasons = [];
    services.state.onChange((x) => void (reasons.at(-1) !== x.miner.reason && reasons.push(x.miner.reason)));
    await services.start();
    return services;
  }

  it('picks int4 for a 6 GB GPU, falls back past a dead mirror, verifies, and loads it', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'nya-teacher-'));
    server = await startTeacherServer([
      { id: 'test-int4', minVramMiB: 5632, mirrors: ['http://127.0.0.1:1/dead-mirror/'] },
      { id: 'test-fp16', minVramMiB: 15360 },
    ]);
    const s = await start({ gpuMemoryMiB: 6144 }, server.url(''));
    const ready = await snapshotWhere(s, (x) => x.teacher.state === 'ready');
    // What it said, in order: the download with its size, then the load.
    const said = (start: string) => reasons.findIndex((r) => r.startsWith(start));
    expect(said('Getting the teacher: Test teacher test-int4'), reasons.join(' | ')).toBeGreaterThanOrEqual(0);
    expect(said('Loading the teacher model'), reasons.join(' | ')).toBeGreaterThan(said('Getting the teacher'));
    const dir = join(dataDir, 'models', 'test-int4');
    expect(ready.settings.modelDir).toBe(dir);
    expect(ready.modelDownload).toMatchObject({ status: 'done', variantId: 'test-int4', dir, overall: 1 });
    expect(ready.modelDownload.variantBytesDone).toBe(ready.modelDownload.variantBytesTotal);
    expect(server.requests.some((r) => r.path.includes('test-fp16'))).toBe(false);
    expect(readdirSync(dir).sort()).toEqual(
      ['config.json', 'config.json.sha256', 'model.onnx', 'model.onnx.sha256', 'model.onnx_data', 'model.onnx_data.sha256'].sort(),
    );

    // Another network's validator chooses again: its teacher replaces the downloaded one.
    const other = await startTeacherServer([{ id: 'other-int4', minVramMiB: 0 }]);
    try {
      s.settings.update({ validatorUrl: other.url('') });
      const switched = await snapshotWhere(
        s,
        (x) => x.teacher.state === 'ready' && x.settings.modelDir === join(dataDir, 'models', 'other-int4'),
      );
      expect(switched.validator.url).toBe(other.url(''));
    } finally {
      await other.stop();
    }
  });

  it('refuses to start when the disk is too small: a sentence with the folder and the bytes, nothing written', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'nya-teacher-'));
    server = await startTeacherServer([{ id: 'test-int4', minVramMiB: 0 }]);
    const s = await start({ modelDownloader: { freeBytes: async () => 1_000_000 } }, server.url(''));
    const failed = await snapshotWhere(s, (x) => x.miner.status === 'error');
    const dir = join(dataDir, 'models', 'test-int4');
    expect(failed.miner.reason).toMatch(
      new RegExp(
        `^Could not get the teacher: not enough free disk space in ${dir}: the download needs \\d+(\\.\\d)? MB more, 1(\\.0)? MB is free\\.`,
      ),
    );
    expect(failed.modelDownload).toMatchObject({ status: 'error', errorCode: 'disk-full' });
    expect(failed.settings.modelDir).toBeNull();
    expect(readdirSync(dir)).toEqual([]);
    expect(server.requests.filter((r) => r.path.startsWith('/v1/model/files/'))).toEqual([]);
  });
});
