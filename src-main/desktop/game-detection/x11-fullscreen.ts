/**
 * A full-screen window on X11 (and XWayland): the active window from the root window's
 * `_NET_ACTIVE_WINDOW`, then its `_NET_WM_STATE` and `WM_CLASS`. Native Wayland windows are
 * invisible to xprop; there the Steam signal still works.
 */
export const ACTIVE_WINDOW_ARGS = ['-root', '_NET_ACTIVE_WINDOW'] as const;
export const windowStateArgs = (id: string) => ['-id', id, '_NET_WM_STATE', 'WM_CLASS'] as const;

/** `_NET_ACTIVE_WINDOW(WINDOW): window id # 0x3a00007` → "0x3a00007"; none or 0x0 → null. */
export function parseActiveWindow(stdout: string): string | null {
  const id = stdout.match(/_NET_ACTIVE_WINDOW\(WINDOW\): window id # (0x[0-9a-f]+)/i)?.[1];
  return id && Number.parseInt(id, 16) !== 0 ? id : null;
}

export interface WindowState {
  fullscreen: boolean;
  /** WM_CLASS instance name ("cs2", "steam_app_730", "mpv"), when set. */
  name: string | null;
}

export function parseWindowState(stdout: string): WindowState {
  const atoms = stdout.match(/^_NET_WM_STATE\(ATOM\) = (.*)$/m)?.[1] ?? '';
  const wmClass = stdout.match(/^WM_CLASS\(STRING\) = "((?:[^"\\]|\\.)*)"/m)?.[1] ?? null;
  return {
    fullscreen: atoms
      .split(',')
      .map((atom) => atom.trim())
      .includes('_NET_WM_STATE_FULLSCREEN'),
    name: wmClass || null,
  };
}
