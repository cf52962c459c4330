import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { INVOKE_CHANNELS, STATE_CHANNEL } from '../../src-shared/channels';
import type { StateSnapshot } from '../../src-shared/state';
import { composeElectron, type ElectronModule } from '../../src-main/compose/electron';
import { CONTENT_SECURITY_POLICY } from '../../src-main/electron/security';
import { fakeElectron } from './fake-electron';
import { tempDirs } from './temp-dirs';

const root = resolve(__dirname, '../..');
const built = existsSync(join(root, 'dist/renderer/index.html')) && existsSync(join(root, 'dist/main/teacher-worker.cjs'));
if (!built) console.warn('compose-electron test skipped: run `npm run build` first (dist/renderer, dist/main)');

const tempDir = tempDirs('nya-desktop-');
const quitters: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const quit of quitters.splice(0)) await quit();
});

function pauseOnDisk(userData: string): boolean {
  const file = join(userData, 'desktop.json');
  return existsSync(file) && JSON.parse(readFileSync(file, 'utf8')).userPause.paused === true;
}

async function until<T>(what: string, probe: () => T | undefined | null | false, timeoutMs = 15_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function launch(userData: string, home: string) {
  // The user is at the keyboard: the policy holds the miner, so no model is loaded in this test.
  const fake = fakeElectron({ userData, home, idleSeconds: () => 0 });
  const desktop = await composeElectron(fake.electron as unknown as ElectronModule, {
    startHidden: false,
    testHooks: true,
    echoLogs: false,
  });
  const win = fake.windows[0]!;
  const trusted = { sender: { id: win.webContents.id }, senderFrame: { url: 'app://nya/index.html', parent: null } };
  const invoke = (channel: string, payload: unknown, event: unknown = trusted) => fake.handlers.get(channel)!(event, payload);
  const quit = async () => {
    if (fake.electron.app.quitCalls > 0) return;
    fake.electron.app.quit();
    await until('the app to quit after shutdown', () => fake.electron.app.quitCalls >= 2, 20_000);
  };
  quitters.push(quit);
  return { fake, desktop, win, invoke, quit };
}

describe.skipIf(!built)('the desktop composition root, on a fake Electron', () => {
  it('wires the window, IPC, state pushes, tray and close-to-tray to the real services', async () => {
    const userData = tempDir();
    const { fake, win, invoke, quit } = await launch(userData, tempDir());

    expect([...fake.handlers.keys()].sort()).toEqual([...INVOKE_CHANNELS].sort());
    expect(win.loadedUrl).toBe('app://nya/index.html');
    expect(win.options.webPreferences).toMatchObject({ sandbox: true, contextIsolation: true, nodeIntegration: false });
    expect(await invoke('state:get', {})).toMatchObject({ ok: true, value: { schemaVersion: 1 } });
    expect(await invoke('state:get', {}, { sender: { id: 999 }, senderFrame: { url: 'app://nya/', parent: null } })).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    });

    await until('the window to show', () => win.visible);
    const pushed = await until('a state push', () => win.sent.find(([channel]) => channel === STATE_CHANNEL));
    expect((pushed[1] as StateSnapshot).schemaVersion).toBe(1);
    // The policy saw an active user and said so.
    await until('the idle hold', () => win.sent.some(([, s]) => (s as StateSnapshot).miner.status === 'waiting-for-idle'));

    const tray = fake.trays[0]!;
    await until('the tray menu', () => tray.menu);
    expect(tray.image).toMatch(/tray-paused\.png$/);
    const labels = (globalThis as unknown as { __nyaTest: { trayMenuLabels(): string[] } }).__nyaTest.trayMenuLabels();
    expect(labels).toContain('Quit Nya Miner');
    expect(existsSync(tray.image)).toBe(true);

    // Pause from the tray: the menu flips to "Start mining" and the pause is on disk for the next start.
    tray.menu!.template.find((i) => i.id === 'pause')!.click!();
    await until('the menu to offer Start', () => tray.menu!.template.some((i) => i.label === 'Start mining'));
    await until('the pause on disk', () => pauseOnDisk(userData));

    // Closing hides to the tray, with the notice once.
    expect(win.userClose()).toBe(false);
    expect(win.visible).toBe(false);
    win.show();
    expect(win.userClose()).toBe(false);
    expect(fake.notifications).toHaveLength(1);

    // The app:// handler serves the renderer with the CSP, and nothing outside it.
    const serve = fake.protocols.get('app')!;
    const page = await serve(new Request('app://nya/index.html'));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(await page.text()).toContain('<div id="root">');
    expect((await serve(new Request('app://nya/..%2f..%2fpackage.json'))).status).toBe(404);

    await quit();
    expect(tray.destroyed).toBe(true);
    expect(win.userClose()).toBe(true);
  }, 60_000);

  it('comes back paused after a restart, with the previous run in the Logs page', async () => {
    const userData = tempDir();
    const home = tempDir();
    const first = await launch(userData, home);
    expect(await first.invoke('miner:set-paused', { paused: true })).toMatchObject({ ok: true });
    await until('the pause on disk', () => pauseOnDisk(userData));
    await first.quit();

    const second = await launch(userData, home);
    const state = (await second.invoke('state:get', {})) as { ok: true; value: StateSnapshot };
    expect(state.value.miner.userPaused).toBe(true);
    expect(existsSync(join(userData, 'logs', 'main.log'))).toBe(true);
    const logs = (await second.invoke('logs:get', { search: 'desktop app ready' })) as { ok: true; value: unknown[] };
    expect(logs.value.length).toBeGreaterThanOrEqual(2);
  }, 60_000);
});
