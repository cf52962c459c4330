import { describe, expect, it } from 'vitest';
import { MINER_STATUSES, StateSnapshot } from '../../src-shared/state';
import { PAUSE_FOR_MS, TOOLTIP_MAX_CHARS, TRAY_ICONS, trayView, type TrayMenuItem } from '../../src-main/desktop/tray-model';
import { snapshotFixture } from '../electron/snapshot-fixture';

const prefs = { openAtLogin: false, updateChecks: true };
const item = (menu: TrayMenuItem[], id: string) => menu.find((m) => m.type !== 'separator' && m.id === id);

describe('trayView', () => {
  it('fixture is a valid snapshot', () => {
    expect(StateSnapshot.safeParse(snapshotFixture()).success).toBe(true);
  });

  it('has an icon for every miner status, and uses all four', () => {
    const icons = MINER_STATUSES.map((status) => trayView(snapshotFixture({ status }), prefs).icon);
    for (const icon of icons) expect(TRAY_ICONS).toContain(icon);
    expect(new Set(icons)).toEqual(new Set(TRAY_ICONS));
    expect(trayView(snapshotFixture({ status: 'mining' }), prefs).icon).toBe('mining');
    expect(trayView(snapshotFixture({ status: 'paused' }), prefs).icon).toBe('paused');
    expect(trayView(snapshotFixture({ status: 'error' }), prefs).icon).toBe('error');
    expect(trayView(snapshotFixture({ status: 'no-work' }), prefs).icon).toBe('idle');
  });

  it('shows tokens per second while mining, and the reason otherwise', () => {
    expect(trayView(snapshotFixture({ status: 'mining' }, 1234.56), prefs).tooltip).toBe('Nya Miner: Mining · 1,235 tok/s');
    expect(trayView(snapshotFixture({ status: 'mining' }, 12.34), prefs).tooltip).toBe('Nya Miner: Mining · 12.3 tok/s');
    expect(trayView(snapshotFixture({ status: 'waiting-for-idle', reason: 'A game is running' }), prefs).tooltip).toBe(
      'Nya Miner: Waiting · A game is running',
    );
  });

  it('keeps the tooltip within what Windows shows', () => {
    const tooltip = trayView(snapshotFixture({ status: 'error', reason: 'x'.repeat(500) }), prefs).tooltip;
    expect(tooltip.length).toBe(TOOLTIP_MAX_CHARS);
    expect(tooltip.endsWith('…')).toBe(true);
  });

  it('offers Pause while mining and Start when the user paused', () => {
    const mining = trayView(snapshotFixture({ status: 'mining' }), prefs).menu;
    expect(item(mining, 'pause')).toMatchObject({ label: 'Pause', action: { kind: 'set-paused', paused: true } });
    expect(item(mining, 'resume')).toBeUndefined();
    const paused = trayView(snapshotFixture({ status: 'paused', userPaused: true }), prefs).menu;
    expect(item(paused, 'resume')).toMatchObject({ label: 'Start mining', action: { kind: 'set-paused', paused: false } });
    expect(item(paused, 'pause')).toBeUndefined();
  });

  it('pauses for one hour, except over an open-ended pause of the user', () => {
    const mining = trayView(snapshotFixture({ status: 'mining' }), prefs).menu;
    expect(item(mining, 'pause-hour')).toMatchObject({ enabled: true, action: { paused: true, forMs: PAUSE_FOR_MS } });
    const held = trayView(snapshotFixture({ status: 'paused', userPaused: true }), prefs).menu;
    expect(item(held, 'pause-hour')).toMatchObject({ enabled: false });
    const timed = trayView(snapshotFixture({ status: 'paused', userPaused: true, pausedUntilMs: 5 }), prefs).menu;
    expect(item(timed, 'pause-hour')).toMatchObject({ enabled: true });
  });

  it('has Open and Quit, and checkboxes that flip the current preference', () => {
    const menu = trayView(snapshotFixture(), { openAtLogin: true, updateChecks: false }).menu;
    expect(item(menu, 'open')).toMatchObject({ action: { kind: 'open-window' } });
    expect(item(menu, 'logs')).toMatchObject({ action: { kind: 'open-logs' } });
    expect(menu.at(-1)).toMatchObject({ id: 'quit', action: { kind: 'quit' } });
    expect(item(menu, 'open-at-login')).toMatchObject({ checked: true, action: { enabled: false } });
    expect(item(menu, 'update-checks')).toMatchObject({ checked: false, action: { enabled: true } });
  });
});
