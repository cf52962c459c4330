import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServices } from '../../src-main/compose/services';
import { diagnosticsFacts, diagnosticsReport } from '../../src-main/diagnostics';
import { formatLogLine } from '../../src-main/electron/file-log-sink';
import { LogHub } from '../../src-node/log';
import { DEFAULT_SETTINGS } from '../../src-shared/state';

const root = resolve(__dirname, '../..');
const nya = join(root, 'bin', 'nya.cjs');
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
const PASSPHRASE = 'diagnostics-must-not-show-this';
const SEED = `0x${'5e'.repeat(32)}`;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'nya-diagnostics-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runNya(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [nya, ...args], {
    encoding: 'utf8',
    input: '',
    timeout: 60_000,
    env: { PATH: process.env.PATH ?? '', HOME: dir, ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('nya --version', () => {
  it('prints the package version, as -v too', () => {
    for (const flag of ['--version', '-v']) expect(runNya([flag])).toEqual({ code: 0, stdout: `nya-miner ${version}\n`, stderr: '' });
  });
});

describe('diagnosticsReport', () => {
  it('has the versions, provider plan, settings and logs, with URL credentials and secrets cut out', () => {
    const report = diagnosticsReport(
      diagnosticsFacts({
        dataDir: '/var/lib/nya-miner',
        gpu: { status: 'none', source: 'nvidia-smi', gpus: [] },
        teacher: {
          state: 'ready',
          modelName: 'demo',
          modelHash: null,
          isDemo: true,
          executionProvider: 'CPU',
          providerReason: 'CUDA failed: libcudart.so.12 missing; using CPU',
          error: null,
        },
        settings: { ...DEFAULT_SETTINGS, validatorUrl: 'https://miner:hunter2@v.example.org/nya?token=abc', maxGpuTempC: 80 },
        logs: [
          { atMs: 0, level: 'info', source: 'teacher', message: 'teacher on CPU: CUDA failed' },
          { atMs: 1, level: 'warn', source: 'oops', message: `passphrase was ${PASSPHRASE}, seed ${SEED}` },
        ],
        secrets: [PASSPHRASE],
      }),
    );
    expect(report).toContain(`nya-miner: ${version}`);
    expect(report).toContain(`node: ${process.versions.node}`);
    expect(report).toContain('onnxruntime-node: 1.');
    expect(report).toMatch(/plan: auto on linux-x64: tries (CUDA, then )?CPU/);
    expect(report).toContain('why: CUDA failed: libcudart.so.12 missing; using CPU');
    expect(report).toContain('validatorUrl: https://[redacted]@v.example.org/nya?[redacted]');
    expect(report).toContain('maxGpuTempC: 80');
    expect(report).toContain('[teacher] teacher on CPU: CUDA failed');
    for (const secret of [PASSPHRASE, 'hunter2', 'token=abc', SEED]) expect(report).not.toContain(secret);
  });
});

describe('nya diagnostics', () => {
  it('reports a rig with a wallet without any of its key material or passphrase', () => {
    const dataDir = join(dir, 'rig');
    const created = runNya(['wallet', 'create', '--data-dir', dataDir], { NYA_WALLET_PASSPHRASE: PASSPHRASE });
    expect(created.code).toBe(0);
    const mnemonic = created.stdout
      .split('\n')
      .find((l) => /^ {2}(\w+ ){11,}\w+$/.test(l))!
      .trim();
    const keyFile = JSON.parse(readFileSync(join(dataDir, 'wallet', 'mining-key.json'), 'utf8')) as {
      sealedBase64: string;
      address: string;
    };
    writeFileSync(join(dataDir, 'settings.json'), JSON.stringify({ executionProvider: 'cpu', validatorUrl: 'https://v.example.org/' }));
    mkdirSync(join(dataDir, 'logs'));
    writeFileSync(
      join(dataDir, 'logs', 'main.log'),
      [
        formatLogLine({ atMs: 1, level: 'info', source: 'teacher', message: 'teacher on CPU: chosen in settings' }),
        formatLogLine({ atMs: 2, level: 'error', source: 'wallet', message: `unlock failed for '${PASSPHRASE}'` }),
      ].join(''),
    );

    const r = runNya(['diagnostics', '--data-dir', dataDir], { NYA_WALLET_PASSPHRASE: PASSPHRASE });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`data folder: ${dataDir}`);
    expect(r.stdout).toContain('plan: cpu on');
    expect(r.stdout).toContain('executionProvider: cpu');
    expect(r.stdout).toContain('[teacher] teacher on CPU: chosen in settings');
    expect(r.stdout).toContain("unlock failed for '[redacted]'");
    for (const secret of [PASSPHRASE, mnemonic, mnemonic.split(' ').slice(0, 3).join(' '), keyFile.sealedBase64]) {
      expect(r.stdout).not.toContain(secret);
    }
    expect(r.stdout.toLowerCase()).not.toContain('sealed');

    const out = join(dir, 'report.txt');
    expect(runNya(['diagnostics', '--data-dir', dataDir, '--out', out]).code).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
  });
});

describe('diagnostics:export', () => {
  it('writes the report into the data folder and answers its path', async () => {
    const dataDir = join(dir, 'app');
    const hub = new LogHub();
    const services = await createServices({ dataDir, log: hub, gpuMonitor: null, diagnosticsSecrets: [PASSPHRASE] });
    try {
      hub.logger('wallet').warn(`do not leak ${PASSPHRASE}`);
      const answer = await services.router.invoke('diagnostics:export', {});
      expect(answer.ok).toBe(true);
      const { path } = (answer as { ok: true; value: { path: string } }).value;
      expect(path.startsWith(join(dataDir, 'diagnostics', 'nya-diagnostics-'))).toBe(true);
      const text = readFileSync(path, 'utf8');
      expect(text).toContain('## Execution provider');
      expect(text).toContain('[wallet] do not leak [redacted]');
      expect(text).not.toContain(PASSPHRASE);
      expect(statSync(path).mode & 0o777).toBe(0o600);
    } finally {
      await services.dispose();
    }
  });
});
