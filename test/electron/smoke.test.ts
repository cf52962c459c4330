import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { _electron as electron, type ElectronApplication } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import type { NyaBridge } from '../../src-shared/ipc';
import type { StateSnapshot } from '../../src-shared/state';

const root = resolve(__dirname, '../..');

/**
 * Where the Electron binary is, without `require('electron')`: since Electron 45 that call
 * downloads the binary when it is missing, which must never happen in a test run.
 */
function electronBinary(): { path: string } | { skip: string } {
  const pkg = join(root, 'packaging/node_modules/electron');
  const pathFile = join(pkg, 'path.txt');
  if (!existsSync(pathFile))
    return { skip: 'packaging/node_modules/electron/path.txt is missing: the Electron binary was never installed' };
  const relativePath = readFileSync(pathFile, 'utf8').trim();
  const dist = process.env.ELECTRON_OVERRIDE_DIST_PATH ?? join(pkg, 'dist');
  const binary = join(dist, relativePath);
  if (!existsSync(binary)) return { skip: `the Electron binary is absent (${binary})` };
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    return { skip: 'no display (set DISPLAY, e.g. run under xvfb-run)' };
  }
  if (!existsSync(join(root, 'dist/main/electron-main.cjs')) || !existsSync(join(root, 'dist/renderer/index.html'))) {
    return { skip: 'the app is not built (npm run build)' };
  }
  return { path: binary };
}

const binary = electronBinary();
if ('skip' in binary) console.warn(`electron smoke test skipped: ${binary.skip}`);

declare global {
  interface Window {
    nya?: NyaBridge;
  }
}

describe.skipIf('skip' in binary)('desktop app (Playwright _electron)', () => {
  let app: ElectronApplication | null = null;
  const profile = mkdtempSync(join(tmpdir(), 'nya-electron-profile-'));
  afterAll(async () => {
    await app?.close().catch(() => undefined);
    rmSync(profile, { recursive: true, force: true });
  });

  it('opens the window, pushes state and builds the tray menu', async () => {
    app = await electron.launch({
      executablePath: (binary as { path: string }).path,
      args: [root, `--user-data-dir=${profile}`],
      env: { ...process.env, NYA_TEST_HOOKS: '1' } as Record<string, string>,
      timeout: 60_000,
    });
    const page = await app.firstWindow();
    await page.waitForFunction(() => typeof window.nya?.invoke === 'function', undefined, { timeout: 30_000 });
    expect(page.url()).toBe('app://nya/index.html');

    const first = await page.evaluate(() => window.nya!.invoke('state:get', {}));
    expect(first).toMatchObject({ ok: true, value: { schemaVersion: 1 } });

    // A push must follow an action: subscribe, pause, and wait for the snapshot that shows it.
    const pushed = await page.evaluate(
      () =>
        new Promise<StateSnapshot>((resolvePush, reject) => {
          const timer = setTimeout(() => reject(new Error('no state push within 15 s')), 15_000);
          const off = window.nya!.onState((snapshot) => {
            if (!snapshot.miner.userPaused) return;
            clearTimeout(timer);
            off();
            resolvePush(snapshot);
          });
          void window.nya!.invoke('miner:set-paused', { paused: true });
        }),
    );
    expect(pushed.miner.userPaused).toBe(true);

    const labels = await app.evaluate(async () => {
      const hooks = (globalThis as { __nyaTest?: { trayMenuLabels(): string[] } }).__nyaTest;
      for (let i = 0; i < 50 && !hooks?.trayMenuLabels().includes('Start mining'); i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
      return hooks?.trayMenuLabels() ?? [];
    });
    expect(labels).toContain('Start mining');
    expect(labels).toContain('Quit Nya Miner');

    // The pause outlives the process: it is in the profile for the next start.
    const prefs = JSON.parse(readFileSync(join(profile, 'desktop.json'), 'utf8'));
    expect(prefs.userPause).toEqual({ paused: true, untilMs: null });
  }, 120_000);
});
