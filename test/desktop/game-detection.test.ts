import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  GameDetector,
  appNameFromManifest,
  libraryFolders,
  notificationStateSignal,
  parseActiveWindow,
  parseNotificationState,
  parseRegQueryValue,
  parseVdf,
  parseWindowState,
  runningAppIdFromRegistryVdf,
} from '../../src-main/desktop/game-detection';
import type { CommandOutcome, CommandRunner } from '../../src-main/gpu';
import { LogHub } from '../../src-node/log';

const detect = (name: string) => readFileSync(join(__dirname, '../fixtures/detect', name), 'utf8');
const smi = (name: string) => readFileSync(join(__dirname, '../fixtures/nvidia-smi', name), 'utf8');

describe('SHQueryUserNotificationState output', () => {
  it.each([
    ['quns-d3d-fullscreen.txt', 'd3d-fullscreen', 'd3d-fullscreen'],
    ['quns-busy.txt', 'busy', 'fullscreen'],
    ['quns-accepts-notifications.txt', 'accepts-notifications', null],
    ['quns-not-present.txt', 'not-present', null],
  ])('%s → %s', (file, state, signalKind) => {
    const parsed = parseNotificationState(detect(file));
    expect(parsed).toBe(state);
    expect(notificationStateSignal(parsed)?.kind ?? null).toBe(signalKind);
  });

  it('refuses output that is not a state number', () => {
    expect(() => parseNotificationState(detect('quns-garbage.txt'))).toThrow(/not a state number 1-7/);
    expect(() => parseNotificationState('9')).toThrow(/gave "9"/);
  });
});

describe('Steam', () => {
  it('reads RunningAppID and SteamPath from reg query output', () => {
    expect(parseRegQueryValue(detect('reg-query-running-appid-730.txt'), 'RunningAppID')).toBe(730);
    expect(parseRegQueryValue(detect('reg-query-running-appid-0.txt'), 'RunningAppID')).toBe(0);
    expect(parseRegQueryValue(detect('reg-query-steampath.txt'), 'SteamPath')).toBe('c:/program files (x86)/steam');
    expect(parseRegQueryValue(detect('reg-query-missing.txt'), 'RunningAppID')).toBeNull();
  });

  it('reads RunningAppID from registry.vdf', () => {
    expect(runningAppIdFromRegistryVdf(detect('registry-running.vdf'))).toBe(570);
    expect(runningAppIdFromRegistryVdf(detect('registry-idle.vdf'))).toBeNull();
  });

  it('reads the game name and the library folders', () => {
    expect(appNameFromManifest(detect('appmanifest_570.acf'))).toBe('Dota 2');
    expect(libraryFolders(detect('libraryfolders.vdf'))).toEqual(['/home/gamer/.local/share/Steam', '/mnt/games/SteamLibrary']);
  });

  it('parses VDF escapes, comments, conditions and bare tokens, and rejects broken files', () => {
    const vdf = parseVdf('// c\n"a" { "b" "x\\"y" bare token "c" "1" [$WIN32] }');
    expect(vdf).toEqual({ a: { b: 'x"y', bare: 'token', c: '1' } });
    expect(() => parseVdf('"a" { "b" "1"')).toThrow(/never closed/);
    expect(() => parseVdf('"a" "1" }')).toThrow(/unexpected "}"/);
  });
});

describe('X11 full-screen', () => {
  it('reads the active window', () => {
    expect(parseActiveWindow(detect('xprop-active-window.txt'))).toBe('0x4a00007');
    expect(parseActiveWindow(detect('xprop-active-window-none.txt'))).toBeNull();
    expect(parseActiveWindow(detect('xprop-active-window-not-found.txt'))).toBeNull();
  });

  it('reads the window state and class', () => {
    expect(parseWindowState(detect('xprop-window-fullscreen.txt'))).toEqual({ fullscreen: true, name: 'steam_app_570' });
    expect(parseWindowState(detect('xprop-window-maximized.txt'))).toEqual({ fullscreen: false, name: 'code' });
    expect(parseWindowState(detect('xprop-window-no-state.txt'))).toEqual({ fullscreen: false, name: null });
  });
});

const ok = (stdout: string): CommandOutcome => ({ kind: 'exited', exitCode: 0, stdout, stderr: '' });

/** Answers by the command line, as the real tools would; anything unknown is "not installed". */
function machine(answers: Record<string, CommandOutcome>): { run: CommandRunner; calls: string[] } {
  const calls: string[] = [];
  const run: CommandRunner = async (file, args) => {
    const key = [file, ...args].join(' ');
    calls.push(key);
    const hit = Object.entries(answers).find(([prefix]) => key.startsWith(prefix));
    return hit ? hit[1] : { kind: 'not-found', file };
  };
  return { run, calls };
}

const files = (entries: Record<string, string>) => async (path: string) => entries[path] ?? null;

describe('GameDetector', () => {
  it('on Linux: a full-screen window, a Steam game by name, and another GPU program', async () => {
    const { run } = machine({
      'xprop -root _NET_ACTIVE_WINDOW': ok(detect('xprop-active-window.txt')),
      'xprop -id 0x4a00007 _NET_WM_STATE WM_CLASS': ok(detect('xprop-window-fullscreen.txt')),
      'nvidia-smi --query-compute-apps': ok(smi('compute-apps-linux.csv')),
    });
    const detector = new GameDetector({
      platform: 'linux',
      run,
      homeDir: '/home/gamer',
      ownPids: () => [48213],
      readText: files({
        '/home/gamer/.steam/registry.vdf': detect('registry-running.vdf'),
        '/home/gamer/.steam/steam/steamapps/libraryfolders.vdf': detect('libraryfolders.vdf'),
        '/mnt/games/SteamLibrary/steamapps/appmanifest_570.acf': detect('appmanifest_570.acf'),
      }),
    });
    expect(await detector.detect()).toEqual({
      games: [
        { kind: 'fullscreen', source: 'x11-fullscreen', name: 'steam_app_570' },
        { kind: 'steam-game', source: 'steam-registry-vdf', name: 'Dota 2' },
      ],
      otherGpuProcesses: [{ pid: 51002, name: '/usr/lib/blender/blender', usedMemoryMiB: 1532 }],
      unavailable: [],
    });
  });

  it('on Linux without X, Steam or nvidia-smi: nothing detected, all unavailable, logged once', async () => {
    const lines: string[] = [];
    const hub = new LogHub();
    hub.attach((record) => lines.push(record.message));
    const detector = new GameDetector({
      platform: 'linux',
      run: machine({}).run,
      homeDir: '/home/nobody',
      ownPids: () => [],
      readText: files({}),
      logger: hub.logger('detect'),
    });
    const first = await detector.detect();
    await detector.detect();
    expect(first).toEqual({
      games: [],
      otherGpuProcesses: null,
      unavailable: ['X11 full-screen window', 'Steam (registry.vdf)'],
    });
    // The probes run concurrently, so the two lines may come in either order.
    expect(lines.sort()).toEqual(
      ['Game detection: X11 full-screen window not available here', 'Game detection: Steam (registry.vdf) not available here'].sort(),
    );
  });

  it('on Windows: exclusive Direct3D and a Steam game whose name is unknown', async () => {
    const { run, calls } = machine({
      'powershell.exe': ok(detect('quns-d3d-fullscreen.txt')),
      'reg query HKCU\\Software\\Valve\\Steam /v RunningAppID': ok(detect('reg-query-running-appid-730.txt')),
      'reg query HKCU\\Software\\Valve\\Steam /v SteamPath': ok(detect('reg-query-steampath.txt')),
      'nvidia-smi --query-compute-apps': ok(''),
    });
    const detector = new GameDetector({ platform: 'win32', run, homeDir: 'C:\\Users\\me', ownPids: () => [], readText: files({}) });
    const detection = await detector.detect();
    expect(detection.games).toEqual([
      { kind: 'd3d-fullscreen', source: 'windows-notification-state', name: null },
      { kind: 'steam-game', source: 'steam-registry', name: 'Steam app 730' },
    ]);
    expect(detection.otherGpuProcesses).toEqual([]);
    expect(calls.some((call) => call.includes('SHQueryUserNotificationState'))).toBe(true);
  });

  it('on Windows with Steam idle and the desktop showing: no game', async () => {
    const { run } = machine({
      'powershell.exe': ok(detect('quns-accepts-notifications.txt')),
      'reg query HKCU\\Software\\Valve\\Steam /v RunningAppID': ok(detect('reg-query-running-appid-0.txt')),
    });
    const detector = new GameDetector({ platform: 'win32', run, homeDir: 'C:\\Users\\me', ownPids: () => [], readText: files({}) });
    expect(await detector.detect()).toMatchObject({ games: [], unavailable: [] });
  });

  it('treats a probe that throws as unavailable with its reason', async () => {
    const lines: string[] = [];
    const hub = new LogHub();
    hub.attach((record) => lines.push(record.message));
    const { run } = machine({ 'powershell.exe': ok(detect('quns-garbage.txt')) });
    const detector = new GameDetector({
      platform: 'win32',
      run,
      homeDir: 'C:\\',
      ownPids: () => [],
      readText: files({}),
      logger: hub.logger('d'),
    });
    const detection = await detector.detect();
    expect(detection.unavailable).toContain('Windows full-screen state');
    expect(lines[0]).toMatch(/^Game detection: Windows full-screen state SHQueryUserNotificationState gave "Add-Type/);
  });
});
