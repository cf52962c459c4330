import type { MinerStatus, StateSnapshot } from '../../src-shared/state';

/**
 * What the tray shows for a state snapshot: icon, tooltip and menu, as plain data. The Electron
 * glue (`src-main/electron/tray.ts`) only turns this into a `Tray` and a `Menu` and maps each
 * item's action onto the services, so everything a user sees in the tray is tested here.
 */

export const TRAY_ICONS = ['mining', 'paused', 'error', 'idle'] as const;
export type TrayIconName = (typeof TRAY_ICONS)[number];

export const PAUSE_FOR_MS = 3600_000;

export type TrayAction =
  | { kind: 'set-paused'; paused: boolean; forMs?: number }
  | { kind: 'open-window' }
  | { kind: 'open-logs' }
  | { kind: 'set-open-at-login'; enabled: boolean }
  | { kind: 'set-update-checks'; enabled: boolean }
  | { kind: 'quit' };

export type TrayMenuItem =
  | { type: 'separator' }
  | { type: 'normal'; id: string; label: string; enabled: boolean; action: TrayAction }
  | { type: 'checkbox'; id: string; label: string; checked: boolean; action: TrayAction };

export interface TrayView {
  icon: TrayIconName;
  tooltip: string;
  menu: TrayMenuItem[];
}

/** Desktop-only preferences the tray also toggles. */
export interface TrayPrefs {
  openAtLogin: boolean;
  updateChecks: boolean;
}

const ICON_BY_STATUS: Record<MinerStatus, TrayIconName> = {
  mining: 'mining',
  paused: 'paused',
  'waiting-for-idle': 'paused',
  error: 'error',
  starting: 'idle',
  'no-work': 'idle',
  offline: 'idle',
};

const STATUS_WORD: Record<MinerStatus, string> = {
  mining: 'Mining',
  paused: 'Paused',
  'waiting-for-idle': 'Waiting',
  error: 'Error',
  starting: 'Starting',
  'no-work': 'No work',
  offline: 'Offline',
};

/** Windows truncates tray tooltips at 127 characters; cut them ourselves, visibly. */
export const TOOLTIP_MAX_CHARS = 127;

function formatTokensPerS(tokensPerS: number): string {
  const digits = tokensPerS < 100 ? 1 : 0;
  return `${tokensPerS.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 })} tok/s`;
}

function trayTooltip(snapshot: StateSnapshot): string {
  const { status, reason } = snapshot.miner;
  const parts = [`Nya Miner: ${STATUS_WORD[status]}`];
  if (status === 'mining') parts.push(formatTokensPerS(snapshot.tokensPerS));
  else if (reason) parts.push(reason);
  const text = parts.join(' · ');
  return text.length <= TOOLTIP_MAX_CHARS ? text : `${text.slice(0, TOOLTIP_MAX_CHARS - 1)}…`;
}

export function trayView(snapshot: StateSnapshot, prefs: TrayPrefs): TrayView {
  const userPaused = snapshot.miner.userPaused;
  const menu: TrayMenuItem[] = [
    userPaused
      ? { type: 'normal', id: 'resume', label: 'Start mining', enabled: true, action: { kind: 'set-paused', paused: false } }
      : { type: 'normal', id: 'pause', label: 'Pause', enabled: true, action: { kind: 'set-paused', paused: true } },
    {
      type: 'normal',
      id: 'pause-hour',
      label: 'Pause for 1 hour',
      // Already paused by the user with no end: an hour's pause would resume mining early.
      enabled: !(userPaused && snapshot.miner.pausedUntilMs === null),
      action: { kind: 'set-paused', paused: true, forMs: PAUSE_FOR_MS },
    },
    { type: 'separator' },
    { type: 'normal', id: 'open', label: 'Open Nya Miner', enabled: true, action: { kind: 'open-window' } },
    { type: 'normal', id: 'logs', label: 'Open log folder', enabled: true, action: { kind: 'open-logs' } },
    { type: 'separator' },
    {
      type: 'checkbox',
      id: 'open-at-login',
      label: 'Start on login',
      checked: prefs.openAtLogin,
      action: { kind: 'set-open-at-login', enabled: !prefs.openAtLogin },
    },
    {
      type: 'checkbox',
      id: 'update-checks',
      label: 'Check for updates',
      checked: prefs.updateChecks,
      action: { kind: 'set-update-checks', enabled: !prefs.updateChecks },
    },
    { type: 'separator' },
    { type: 'normal', id: 'quit', label: 'Quit Nya Miner', enabled: true, action: { kind: 'quit' } },
  ];
  return { icon: ICON_BY_STATUS[snapshot.miner.status], tooltip: trayTooltip(snapshot), menu };
}
