import type { GameSignal } from '../../policy/signals';

/**
 * `SHQueryUserNotificationState` (shell32): Windows' own answer to "is the user in something
 * full-screen?", the same one it uses to hold back notifications. Called through PowerShell so no
 * native module is needed; a cold PowerShell takes about a second, fine for a poll every few.
 */
export const NOTIFICATION_STATE_COMMAND = {
  file: 'powershell.exe',
  args: [
    '-NoProfile',
    '-NonInteractive',
    '-Command',
    '$t = Add-Type -Name Quns -Namespace Nya -PassThru -MemberDefinition \'[DllImport("shell32.dll")] public static extern int SHQueryUserNotificationState(out int state);\'; $s = 0; [void]$t::SHQueryUserNotificationState([ref]$s); $s',
  ],
} as const;

/** QUERY_USER_NOTIFICATION_STATE values, from shellapi.h. */
export const NOTIFICATION_STATES = {
  1: 'not-present', // screen saver, locked, or another user's session
  2: 'busy', // a full-screen application, or presentation settings applied
  3: 'd3d-fullscreen', // an exclusive-mode Direct3D application
  4: 'presentation', // presentation mode
  5: 'accepts-notifications', // nothing in the way
  6: 'quiet-time', // the first hour after a new user signs in
  7: 'app', // a Windows Store (immersive) app in the foreground
} as const;
export type NotificationState = (typeof NOTIFICATION_STATES)[keyof typeof NOTIFICATION_STATES];

export function parseNotificationState(stdout: string): NotificationState {
  const text = stdout.trim();
  const state = /^\d+$/.test(text) ? NOTIFICATION_STATES[Number(text) as keyof typeof NOTIFICATION_STATES] : undefined;
  if (!state) throw new Error(`SHQueryUserNotificationState gave "${text.slice(0, 80)}", not a state number 1-7`);
  return state;
}

/** The states that mean "someone is watching or playing"; locked and quiet-time do not. */
export function notificationStateSignal(state: NotificationState): GameSignal | null {
  const source = 'windows-notification-state';
  switch (state) {
    case 'd3d-fullscreen':
      return { kind: 'd3d-fullscreen', source, name: null };
    case 'busy':
    case 'app':
      return { kind: 'fullscreen', source, name: null };
    case 'presentation':
      return { kind: 'presentation', source, name: null };
    default:
      return null;
  }
}
