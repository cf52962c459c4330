import { readFile } from 'node:fs/promises';
import type { BrowserWindow, Protocol } from 'electron';
import { APP_ENTRY_URL, APP_SCHEME, appResponseHeaders, resolveAppAsset, secureWebPreferences } from './security';

/**
 * Serves the built renderer on `app://nya/` (see security.ts for why not file://). Only files
 * inside `rendererDir` are served, each with the CSP header.
 */
export function registerAppProtocol(protocol: Pick<Protocol, 'handle'>, rendererDir: string): void {
  protocol.handle(APP_SCHEME, async (request) => {
    const file = resolveAppAsset(request.url, rendererDir);
    if (!file) return new Response('Not found', { status: 404 });
    try {
      return new Response(new Uint8Array(await readFile(file)), { headers: appResponseHeaders(file) });
    } catch {
      return new Response('Not found', { status: 404 });
    }
  });
}

export interface MainWindowOptions {
  BrowserWindow: typeof BrowserWindow;
  preloadPath: string;
  iconPath: string;
  /** False when launched at login: the app starts in the tray. */
  show: boolean;
  /** Developer tools: development runs only. */
  devTools: boolean;
}

/** The one window. Shown when its first paint is ready, so it never flashes white. */
export function createMainWindow(o: MainWindowOptions): BrowserWindow {
  const win = new o.BrowserWindow({
    width: 1180,
    height: 780,
    minWidth: 880,
    minHeight: 600,
    show: false,
    title: 'Nya Miner',
    icon: o.iconPath,
    backgroundColor: '#15131f',
    autoHideMenuBar: true,
    webPreferences: secureWebPreferences(o.preloadPath, { devTools: o.devTools }),
  });
  if (o.show) win.once('ready-to-show', () => win.show());
  void win.loadURL(APP_ENTRY_URL);
  return win;
}

/** Bring the window to the front (tray "Open", a second instance, a notification click). */
export function revealWindow(win: BrowserWindow): void {
  if (win.isDestroyed()) return;
  if (win.isMinimized()) win.restore();
  win.show();
  win.focus();
}
