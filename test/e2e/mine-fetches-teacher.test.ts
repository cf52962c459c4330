import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { StateSnapshot } from '../../src-shared/state';
import { KeyStore, passphraseBox } from '../../src-main/wallet';
import { eventually, NyaProcess } from '../browser/nya-process';
import { startTeacherServer } from '../model-manager/teacher-server';

const PASS = 'correct horse battery staple';
/** Only stops a test that can never pass: its waits follow the miner's state and output. */
const PATIENT_MS = 600_000;

/**
 * `nya mine --validator URL` on a fresh data folder with no model flag: it asks the validator,
 * picks int4 because it is told its GPU has 6 GB, and downloads. Killed with SIGKILL halfway
 * through the weights, the next run (this time joining a network from the data folder's
 * networks.json, whose validator is the same) resumes from the bytes on disk (a Range request),
 * verifies and loads the teacher.
 */
describe('nya mine gets its teacher by itself', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'nya-mine-teacher-'));
  const running: NyaProcess[] = [];
  let server: Awaited<ReturnType<typeof startTeacherServer>> | null = null;

  afterAll(async () => {
    for (const p of running) await p.stop('SIGKILL', 1000);
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, PATIENT_MS);

  const mine = async (source: string[]) => {
    const p = new NyaProcess(['mine', '--dashboard-port', '0', '--data-dir', dataDir, ...source, '--gpu-memory-mib', '6144'], {
      NYA_WALLET_PASSPHRASE: PASS,
    });
    running.push(p);
    const m = await p.waitFor(/^dashboard: (http:\/\/127\.0\.0\.1:\d+)\/\?token=(\S+)$/m);
    const state = async (): Promise<StateSnapshot> =>
      (await (await fetch(`${m[1]}/api/state`, { headers: { authorization: `Bearer ${m[2]}` } })).json()) as StateSnapshot;
    return { p, state };
  };

  it(
    'downloads int4, survives a kill halfway, resumes, verifies and loads it',
    async () => {
      server = await startTeacherServer([
        { id: 'test-int4', minVramMiB: 5632 },
        { id: 'test-fp16', minVramMiB: 15360 },
      ]);
      await new KeyStore({ dataDir, box: passphraseBox(PASS) }).create();
      const weights = server.variantPath('test-int4', 'model.onnx_data');
      const total = server.files.get(weights)!.body.length;
      const half = Math.floor(total / 2);
      server.stalls.set(weights, half);
      const part = join(dataDir, 'models', 'test-int4', 'model.onnx_data.part');

      const first = await mine(['--validator', server.url('')]);
      // The download and the status line are two parts of the snapshot with two writers: wait for both.
      const downloading = await eventually(async () => {
        const s = await first.state();
        return (
          s.modelDownload.status === 'downloading' &&
          s.modelDownload.file === 'model.onnx_data' &&
          s.miner.reason !== 'Starting the miner' &&
          s
        );
      }, 'the download on the status line');
      expect(downloading.miner.reason).toMatch(/^Getting the teacher: Test teacher test-int4/);
      await eventually(async () => statSync(part, { throwIfNoEntry: false })?.size === half, 'half the weights on disk');
      await first.p.stop('SIGKILL');

      server.stalls.delete(weights);
      const network = { name: 'test-net', label: 'Test network', validators: [server.url('')], communeRpc: null, explorer: null };
      writeFileSync(join(dataDir, 'networks.json'), JSON.stringify({ version: 1, networks: [network] }));
      const second = await mine(['--network', 'test-net']);
      const ready = await eventually(async () => {
        const s = await second.state();
        return s.teacher.state === 'ready' && s;
      }, 'the teacher ready');
      expect(ready.settings.modelDir).toBe(join(dataDir, 'models', 'test-int4'));
      const fetches = server.requests.filter((r) => r.path === weights);
      expect(fetches.map((r) => [r.headers.range ?? null, r.status])).toEqual([
        [null, 200],
        [`bytes=${half}-`, 206],
      ]);
      expect(server.requests.some((r) => r.path.includes('test-fp16'))).toBe(false);
      expect(ready.validator).toMatchObject({ mode: 'remote', url: server.url('') });
    },
    PATIENT_MS,
  );

  it(
    'refuses a network no file names, listing the known ones',
    async () => {
      const p = new NyaProcess(['mine', '--data-dir', dataDir, '--network', 'nowhere']);
      running.push(p);
      expect(await p.exit()).toBe(2);
      expect(p.stderr).toMatch(/--network: no network 'nowhere'; known: local, test-net/);
    },
    PATIENT_MS,
  );
});
