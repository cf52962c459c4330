import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { StateSnapshot } from '../../src-shared/state';
import { KeyStore, passphraseBox } from '../../src-main/wallet';
import { eventually, NyaProcess } from '../browser/nya-process';
import { startTeacherServer } from '../model-manager/teacher-server';

const PASS = 'correct horse battery staple';

/**
 * `nya mine --validator URL` on a fresh data folder with no model flag: it asks the validator,
 * picks int4 because it is told its GPU has 6 GB, and downloads. Killed with SIGKILL halfway
 * through the weights, the next run resumes from the bytes on disk (a Range request), verifies
 * and loads the teacher.
 */
describe('nya mine gets its teacher by itself', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'nya-mine-teacher-'));
  const running: NyaProcess[] = [];
  let server: Awaited<ReturnType<typeof startTeacherServer>> | null = null;

  afterAll(async () => {
    for (const p of running) await p.stop('SIGKILL', 1000);
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const mine = async () => {
    const p = new NyaProcess(
      ['mine', '--dashboard-port', '0', '--data-dir', dataDir, '--validator', server!.url(''), '--gpu-memory-mib', '6144'],
      { NYA_WALLET_PASSPHRASE: PASS },
    );
    running.push(p);
    const m = await p.waitFor(/^dashboard: (http:\/\/127\.0\.0\.1:\d+)\/\?token=(\S+)$/m);
    const state = async (): Promise<StateSnapshot> =>
      (await (await fetch(`${m[1]}/api/state`, { headers: { authorization: `Bearer ${m[2]}` } })).json()) as StateSnapshot;
    return { p, state };
  };

  it('downloads int4, survives a kill halfway, resumes, verifies and loads it', async () => {
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

    const first = await mine();
    const downloading = await eventually(async () => {
      const s = await first.state();
      return s.modelDownload.status === 'downloading' && s.modelDownload.file === 'model.onnx_data' && s;
    });
    expect(downloading.miner.reason).toMatch(/^Getting the teacher: Test teacher test-int4/);
    await eventually(async () => statSync(part, { throwIfNoEntry: false })?.size === half, 60_000, 'half the weights on disk');
    await first.p.stop('SIGKILL');

    server.stalls.delete(weights);
    const second = await mine();
    const ready = await eventually(async () => {
      const s = await second.state();
      return s.teacher.state === 'ready' && s;
    }, 120_000);
    expect(ready.settings.modelDir).toBe(join(dataDir, 'models', 'test-int4'));
    const fetches = server.requests.filter((r) => r.path === weights);
    expect(fetches.map((r) => [r.headers.range ?? null, r.status])).toEqual([
      [null, 200],
      [`bytes=${half}-`, 206],
    ]);
    expect(server.requests.some((r) => r.path.includes('test-fp16'))).toBe(false);
  });
});
