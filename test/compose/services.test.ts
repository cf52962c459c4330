import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createServices, type Services } from '../../src-main/compose/services';
import { LogHub } from '../../src-node/log';
import { GpuMonitor } from '../../src-main/gpu';

/** The shared object graph, with a model that cannot be used: a clear error, no crash, no mining. */
describe('services with a broken model', () => {
  let dir: string;
  let services: Services | null = null;
  afterEach(async () => {
    await services?.dispose();
    services = null;
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [name, write] of [
    ['missing', (_modelDir: string) => undefined],
    ['corrupt', (modelDir: string) => writeFileSync(join(modelDir, 'model.onnx'), Buffer.from('this is not an ONNX protobuf at all'))],
  ] as const) {
    it(`reports a ${name} model in the snapshot and the log, and stays up`, async () => {
      dir = mkdtempSync(join(tmpdir(), 'nya-compose-'));
      const modelDir = join(dir, 'model');
      mkdirSync(modelDir);
      write(modelDir);
      const hub = new LogHub();
      services = await createServices({ dataDir: join(dir, 'data'), log: hub, gpuMonitor: null, settingsOverrides: { modelDir } });
      await services.start();
      const s = services.state.get();
      expect(s.miner.status).toBe('error');
      expect(s.miner.reason).toContain(`The model in ${modelDir} cannot be used`);
      expect(s.logs.some((l) => l.level === 'error' && l.message.includes('cannot be used'))).toBe(true);
      // Still answering: the UI can fix the setting.
      const answer = await services.router.invoke('state:get', {});
      expect(answer.ok).toBe(true);
    }, 60_000);
  }
});

describe('services wiring', () => {
  it('gives every part of the snapshot exactly one writer, as docs/ARCHITECTURE.md lists them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nya-compose-'));
    // Built, not started: the wiring is what is checked, no GPU is polled.
    const services = await createServices({ dataDir: join(dir, 'data'), log: new LogHub(), gpuMonitor: new GpuMonitor() });
    try {
      const keys = Object.keys(services.state.get()).filter((k) => !['schemaVersion', 'seq', 'atMs', 'logs', 'dataDir'].includes(k));
      const owners = Object.fromEntries(keys.map((k) => [k, services.state.ownerOf(k as never)]));
      expect(owners).toEqual({
        miner: 'miner',
        task: 'miner',
        tokensPerS: 'miner',
        tokens: 'miner',
        earnings: 'miner',
        teacher: 'miner',
        validator: 'mining supervisor',
        gpu: 'gpu monitor',
        resources: 'resource monitor',
        modelDownload: 'model downloads',
        wallet: 'wallet',
        settings: 'settings store',
      });
    } finally {
      await services.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
