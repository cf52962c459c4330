import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { INVOKE_CHANNELS } from '../../src-shared/channels';
import { tempDirs } from './temp-dirs';

const root = resolve(__dirname, '../..');
const bundle = join(root, 'dist/main/electron-main.cjs');
const built = existsSync(bundle) && existsSync(join(root, 'dist/renderer/index.html'));
if (!built) console.warn('main-bundle test skipped: run `npm run build` first');
const tempDir = tempDirs('nya-main-bundle-');

describe.skipIf(!built)('dist/main/electron-main.cjs', () => {
  it('boots on a fake Electron: scheme, profile, window, IPC, push, tray, clean quit', async () => {
    const dir = tempDir();
    const harness = join(dir, 'boot.cjs');
    await build({
      entryPoints: [join(__dirname, 'harness/boot-main-bundle.ts')],
      outfile: harness,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      logLevel: 'warning',
    });
    const userData = join(dir, 'profile');
    const run = spawnSync(process.execPath, [harness, bundle, userData, tempDir()], { encoding: 'utf8', timeout: 90_000 });
    const line = run.stdout.trim().split('\n').at(-1) ?? '';
    expect(run.status, run.stderr.slice(-2000)).toBe(0);
    const report = JSON.parse(line);
    expect(report.errors).toEqual([]);
    expect(report.schemes).toEqual([
      expect.objectContaining({ scheme: 'app', privileges: expect.objectContaining({ standard: true, secure: true }) }),
    ]);
    expect(report.userData).toBe(userData);
    expect(report.loadedUrl).toBe('app://nya/index.html');
    expect(report.preload).toBe(join(root, 'dist/main/preload.cjs'));
    expect(existsSync(report.preload)).toBe(true);
    expect(report.pushed).toBe(true);
    expect(report.handlers.sort()).toEqual([...INVOKE_CHANNELS].sort());
    expect(existsSync(report.trayImage)).toBe(true);
    expect(existsSync(join(userData, 'logs', 'main.log'))).toBe(true);
  }, 120_000);
});
