import { join } from 'node:path';
import type { Menu, MenuItemConstructorOptions, Tray } from 'electron';
import type { StateSnapshot } from '../../src-shared/state';
import { trayView, type TrayAction, type TrayIconName, type TrayMenuItem, type TrayPrefs } from '../desktop/tray-model';

/**
 * The tray icon: renders `trayView` (icon, tooltip, menu) and hands each click's action to
 * `onAction`. Electron's Tray and Menu come in as factories (as Signal's tray service takes a tray
 * factory), so this runs in tests with fakes. The native menu is rebuilt only when its content
 * changes: a tooltip carrying tokens/s changes with every push, the menu rarely.
 */
export interface TrayFactories {
  createTray(iconPath: string): Pick<Tray, 'setImage' | 'setToolTip' | 'setContextMenu' | 'on' | 'destroy' | 'isDestroyed'>;
  buildMenu(template: MenuItemConstructorOptions[]): Menu;
}

export interface TrayControllerOptions extends TrayFactories {
  iconDir: string;
  prefs: () => TrayPrefs;
  onAction: (action: TrayAction) => void;
}

function trayIconPath(iconDir: string, icon: TrayIconName): string {
  return join(iconDir, `tray-${icon}.png`);
}

function menuTemplate(items: TrayMenuItem[], onAction: (action: TrayAction) => void): MenuItemConstructorOptions[] {
  return items.map((item): MenuItemConstructorOptions => {
    if (item.type === 'separator') return { type: 'separator' };
    const click = () => onAction(item.action);
    return item.type === 'checkbox'
      ? { id: item.id, type: 'checkbox', label: item.label, checked: item.checked, click }
      : { id: item.id, type: 'normal', label: item.label, enabled: item.enabled, click };
  });
}

export class TrayController {
  private readonly tray: ReturnType<TrayFactories['createTray']>;
  private icon: TrayIconName | null = null;
  private tooltip: string | null = null;
  private menuKey: string | null = null;
  private last: StateSnapshot | null = null;
  /** Labels of the menu now shown, for the smoke test's hook and for logs. */
  menuLabels: string[] = [];

  constructor(private readonly o: TrayControllerOptions) {
    this.tray = o.createTray(trayIconPath(o.iconDir, 'idle'));
    // Windows and macOS: a left click opens the window; Linux desktops show the menu instead.
    this.tray.on('click', () => o.onAction({ kind: 'open-window' }));
  }

  update(snapshot: StateSnapshot): void {
    if (this.tray.isDestroyed()) return;
    this.last = snapshot;
    const view = trayView(snapshot, this.o.prefs());
    if (view.icon !== this.icon) {
      this.tray.setImage(trayIconPath(this.o.iconDir, view.icon));
      this.icon = view.icon;
    }
    if (view.tooltip !== this.tooltip) {
      this.tray.setToolTip(view.tooltip);
      this.tooltip = view.tooltip;
    }
    const menuKey = JSON.stringify(view.menu);
    if (menuKey !== this.menuKey) {
      this.tray.setContextMenu(this.o.buildMenu(menuTemplate(view.menu, this.o.onAction)));
      this.menuKey = menuKey;
      this.menuLabels = view.menu.flatMap((item) => (item.type === 'separator' ? [] : [item.label]));
    }
  }

  /** A preference changed (checkbox items): redraw from the last snapshot. */
  refresh(): void {
    if (this.last) this.update(this.last);
  }

  dispose(): void {
    if (!this.tray.isDestroyed()) this.tray.destroy();
  }
}
