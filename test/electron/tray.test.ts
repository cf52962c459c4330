import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import type { MenuItemConstructorOptions } from 'electron';
import type { TrayAction } from '../../src-main/desktop/tray-model';
import { TrayController } from '../../src-main/electron/tray';
import { snapshotFixture } from './snapshot-fixture';

function setup(prefs = { openAtLogin: false, updateChecks: true }) {
  const tray = Object.assign(new EventEmitter(), {
    setImage: vi.fn(),
    setToolTip: vi.fn(),
    setContextMenu: vi.fn(),
    destroy: vi.fn(),
    isDestroyed: () => false,
  });
  const menus: MenuItemConstructorOptions[][] = [];
  const actions: TrayAction[] = [];
  const controller = new TrayController({
    iconDir: '/icons',
    prefs: () => prefs,
    onAction: (a) => actions.push(a),
    createTray: () => tray as never,
    buildMenu: (template) => (menus.push(template), { template } as never),
  });
  const click = (id: string) => {
    const item = menus.at(-1)!.find((i) => i.id === id)!;
    (item.click as () => void)();
  };
  return { tray, menus, actions, controller, click, prefs };
}

describe('TrayController', () => {
  it('shows the icon and tooltip of the state, and rebuilds the menu only when it changes', () => {
    const s = setup();
    s.controller.update(snapshotFixture({ status: 'mining' }, 50));
    s.controller.update(snapshotFixture({ status: 'mining' }, 60));
    expect(s.tray.setImage).toHaveBeenCalledTimes(1);
    expect(s.tray.setImage).toHaveBeenCalledWith('/icons/tray-mining.png');
    expect(s.tray.setToolTip).toHaveBeenLastCalledWith('Nya Miner: Mining · 60 tok/s');
    expect(s.menus).toHaveLength(1);
    expect(s.controller.menuLabels).toEqual([
      'Pause',
      'Pause for 1 hour',
      'Open Nya Miner',
      'Open log folder',
      'Start on login',
      'Check for updates',
      'Quit Nya Miner',
    ]);

    s.controller.update(snapshotFixture({ status: 'paused', userPaused: true, reason: 'Paused by you' }));
    expect(s.tray.setImage).toHaveBeenLastCalledWith('/icons/tray-paused.png');
    expect(s.menus).toHaveLength(2);
    expect(s.controller.menuLabels[0]).toBe('Start mining');
  });

  it('turns menu clicks into actions', () => {
    const s = setup();
    s.controller.update(snapshotFixture());
    s.click('pause-hour');
    s.click('quit');
    s.click('open-at-login');
    expect(s.actions).toEqual([
      { kind: 'set-paused', paused: true, forMs: 3_600_000 },
      { kind: 'quit' },
      { kind: 'set-open-at-login', enabled: true },
    ]);
    s.tray.emit('click');
    expect(s.actions.at(-1)).toEqual({ kind: 'open-window' });
  });

  it('redraws after a preference change', () => {
    const s = setup();
    s.controller.update(snapshotFixture());
    s.prefs.openAtLogin = true;
    s.controller.refresh();
    expect(s.menus).toHaveLength(2);
    expect(s.menus[1]!.find((i) => i.id === 'open-at-login')!.checked).toBe(true);
  });
});
