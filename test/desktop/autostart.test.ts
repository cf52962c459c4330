import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import {
  Autostart,
  HIDDEN_ARG,
  autostartDesktopPath,
  desktopEntry,
  launchedHidden,
  linuxLaunchPath,
  quoteExecArg,
} from '../../src-main/desktop/autostart';
import { tempDirs } from '../electron/temp-dirs';

const home = tempDirs('nya-autostart-');

function fakeLoginItems() {
  let openAtLogin = false;
  const set = vi.fn((s: { openAtLogin: boolean }) => void (openAtLogin = s.openAtLogin));
  return { setLoginItemSettings: set, getLoginItemSettings: vi.fn(() => ({ openAtLogin })) };
}

const execLine = (entry: string) => entry.split('\n').find((l) => l.startsWith('Exec='));

describe('desktop entry', () => {
  it('launches hidden from the given path', () => {
    const entry = desktopEntry('/opt/Nya Miner/nya-miner');
    expect(entry.startsWith('[Desktop Entry]\n')).toBe(true);
    expect(execLine(entry)).toBe(`Exec="/opt/Nya Miner/nya-miner" ${HIDDEN_ARG}`);
    expect(entry).toMatch(/^Type=Application$/m);
    expect(entry).toMatch(/^Name=Nya Miner$/m);
  });

  it('quotes and escapes Exec arguments as the spec asks', () => {
    expect(quoteExecArg('/usr/bin/nya')).toBe('/usr/bin/nya');
    expect(quoteExecArg('/a b/c')).toBe('"/a b/c"');
    expect(quoteExecArg('/a/100%/x')).toBe('/a/100%%/x');
    expect(quoteExecArg('/a/$HOME"x`')).toBe('"/a/\\\\$HOME\\\\"x\\\\`"');
    expect(quoteExecArg('/a\\b')).toBe('"/a\\\\\\\\b"');
    expect(() => quoteExecArg('/a\nExec=evil')).toThrow(/control character/);
  });

  it('uses $APPIMAGE when set, not the mounted executable', () => {
    expect(linuxLaunchPath({ APPIMAGE: '/home/u/Apps/Nya.AppImage' }, '/tmp/.mount_NyaXYZ/nya-miner')).toBe('/home/u/Apps/Nya.AppImage');
    expect(linuxLaunchPath({ APPIMAGE: '' }, '/usr/lib/nya-miner/nya-miner')).toBe('/usr/lib/nya-miner/nya-miner');
    expect(linuxLaunchPath({}, '/usr/lib/nya-miner/nya-miner')).toBe('/usr/lib/nya-miner/nya-miner');
  });

  it('lives in $XDG_CONFIG_HOME/autostart, or ~/.config/autostart', () => {
    expect(autostartDesktopPath({}, '/home/u')).toBe('/home/u/.config/autostart/nya-miner.desktop');
    expect(autostartDesktopPath({ XDG_CONFIG_HOME: '/cfg' }, '/home/u')).toBe('/cfg/autostart/nya-miner.desktop');
    // The spec says relative values are invalid and must be ignored.
    expect(autostartDesktopPath({ XDG_CONFIG_HOME: 'cfg' }, '/home/u')).toBe('/home/u/.config/autostart/nya-miner.desktop');
  });
});

describe('Autostart on Linux', () => {
  it('writes, refreshes and removes the entry', () => {
    const h = home();
    const env: Record<string, string | undefined> = { APPIMAGE: '/home/u/Nya-1.AppImage' };
    const loginItems = fakeLoginItems();
    const a = new Autostart({ platform: 'linux', env, execPath: '/tmp/.mount/nya', homeDir: h, loginItems });
    expect(a.isEnabled()).toBe(false);
    a.setEnabled(true);
    const path = join(h, '.config/autostart/nya-miner.desktop');
    expect(a.isEnabled()).toBe(true);
    expect(execLine(readFileSync(path, 'utf8'))).toBe(`Exec=/home/u/Nya-1.AppImage ${HIDDEN_ARG}`);
    expect(statSync(path).mode & 0o777).toBe(0o644);

    env.APPIMAGE = '/home/u/Nya-2.AppImage';
    a.setEnabled(true);
    expect(execLine(readFileSync(path, 'utf8'))).toBe(`Exec=/home/u/Nya-2.AppImage ${HIDDEN_ARG}`);

    a.setEnabled(false);
    expect(existsSync(path)).toBe(false);
    expect(a.isEnabled()).toBe(false);
    a.setEnabled(false);
    expect(loginItems.setLoginItemSettings).not.toHaveBeenCalled();
  });
});

describe('Autostart on Windows and macOS', () => {
  it('registers a login item with the hidden flag on Windows', () => {
    const loginItems = fakeLoginItems();
    const a = new Autostart({ platform: 'win32', env: {}, execPath: 'C:\\nya.exe', homeDir: home(), loginItems });
    a.setEnabled(true);
    expect(loginItems.setLoginItemSettings).toHaveBeenCalledWith({ openAtLogin: true, args: [HIDDEN_ARG] });
    expect(a.isEnabled()).toBe(true);
    expect(loginItems.getLoginItemSettings).toHaveBeenCalledWith({ args: [HIDDEN_ARG] });
    a.setEnabled(false);
    expect(a.isEnabled()).toBe(false);
  });

  it('opens hidden on macOS', () => {
    const loginItems = fakeLoginItems();
    const a = new Autostart({ platform: 'darwin', env: {}, execPath: '/Applications/Nya', homeDir: home(), loginItems });
    a.setEnabled(true);
    expect(loginItems.setLoginItemSettings).toHaveBeenCalledWith({ openAtLogin: true, openAsHidden: true });
  });

  it('recognises a hidden launch', () => {
    expect(launchedHidden(['/opt/nya', HIDDEN_ARG])).toBe(true);
    expect(launchedHidden(['/opt/nya'])).toBe(false);
  });
});
