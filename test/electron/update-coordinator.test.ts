import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { UpdateCoordinator, updateModeFor, type UpdateMode } from '../../src-main/electron/update-coordinator';
import { silentLogger } from '../../src-node/log';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

function setup(mode: UpdateMode = 'install') {
  const world = { enabled: true, pending: 0 };
  let downloaded: (v: string) => void = () => {};
  let available: (v: string) => void = () => {};
  const updater = {
    checkForUpdates: vi.fn(async () => null),
    onAvailable: (l: (v: string) => void) => void (available = l),
    onDownloaded: (l: (v: string) => void) => void (downloaded = l),
    onError: () => {},
  };
  const install = vi.fn();
  const notify = vi.fn();
  const c = new UpdateCoordinator({
    updater,
    mode,
    notify,
    enabled: () => world.enabled,
    outboxPending: () => world.pending,
    install,
    log: silentLogger,
    firstCheckAfterMs: 1000,
    checkEveryMs: 10_000,
    installPollMs: 500,
  });
  return { world, updater, install, notify, c, download: (v: string) => downloaded(v), available: (v: string) => available(v) };
}

describe('UpdateCoordinator', () => {
  it('checks after start and then periodically, only while enabled', async () => {
    const s = setup();
    s.c.start();
    await vi.advanceTimersByTimeAsync(1000);
    expect(s.updater.checkForUpdates).toHaveBeenCalledTimes(1);
    s.world.enabled = false;
    await vi.advanceTimersByTimeAsync(20_000);
    expect(s.updater.checkForUpdates).toHaveBeenCalledTimes(1);
    s.world.enabled = true;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(s.updater.checkForUpdates).toHaveBeenCalledTimes(2);
    s.c.dispose();
  });

  it('installs a downloaded update at once when the outbox is empty', async () => {
    const s = setup();
    s.download('1.2.3');
    await vi.advanceTimersByTimeAsync(0);
    expect(s.install).toHaveBeenCalledOnce();
  });

  it('waits for the outbox to empty before installing, and installs once', async () => {
    const s = setup();
    s.world.pending = 3;
    s.c.start();
    s.download('1.2.3');
    await vi.advanceTimersByTimeAsync(2000);
    expect(s.install).not.toHaveBeenCalled();
    expect(s.c.pendingVersion).toBe('1.2.3');
    s.world.pending = 0;
    await vi.advanceTimersByTimeAsync(500);
    expect(s.install).toHaveBeenCalledOnce();
    await vi.advanceTimersByTimeAsync(5000);
    expect(s.install).toHaveBeenCalledOnce();
    s.c.dispose();
  });

  it('does not install while the user has turned updates off', async () => {
    const s = setup();
    s.world.enabled = false;
    s.download('2.0.0');
    expect(s.c.tryInstall()).toBe(false);
    await vi.advanceTimersByTimeAsync(0);
    expect(s.install).not.toHaveBeenCalled();
  });

  it('survives a failing check', async () => {
    const s = setup();
    s.updater.checkForUpdates.mockRejectedValueOnce(new Error('offline'));
    await expect(s.c.checkNow()).resolves.toBeUndefined();
  });
});

describe('update mode per package format', () => {
  it('installs on Windows (NSIS) and from an AppImage; only notifies from the .deb or anything else', () => {
    expect(updateModeFor('win32', {})).toBe('install');
    expect(updateModeFor('linux', { APPIMAGE: '/home/u/Apps/Nya-Miner-0.1.0-x86_64.AppImage' })).toBe('install');
    expect(updateModeFor('linux', {})).toBe('notify');
    expect(updateModeFor('darwin', {})).toBe('notify');
  });

  it('a .deb tells the user once per new version and never installs, even if something was downloaded', async () => {
    const s = setup('notify');
    s.available('1.2.3');
    s.available('1.2.3');
    expect(s.notify).toHaveBeenCalledExactlyOnceWith('1.2.3');
    s.download('1.2.3');
    await vi.advanceTimersByTimeAsync(0);
    expect(s.c.tryInstall()).toBe(false);
    expect(s.install).not.toHaveBeenCalled();
    s.available('1.3.0');
    expect(s.notify).toHaveBeenLastCalledWith('1.3.0');
  });

  it('a self-updating format downloads and installs without a notification', async () => {
    const s = setup('install');
    s.available('1.2.3');
    s.download('1.2.3');
    await vi.advanceTimersByTimeAsync(0);
    expect(s.notify).not.toHaveBeenCalled();
    expect(s.install).toHaveBeenCalledOnce();
  });
});
