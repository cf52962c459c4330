/**
 * What the detectors tell the policy. Plain data so the policy is a pure function and a recorded
 * signal can be replayed in a test.
 */
export type GameSignalKind = 'steam-game' | 'fullscreen' | 'd3d-fullscreen' | 'presentation';

export interface GameSignal {
  kind: GameSignalKind;
  /** Which detector saw it ("steam-registry", "windows-notification-state", "x11-fullscreen"). */
  source: string;
  /** What the user would recognise: the game's or the window's name, when known. */
  name: string | null;
}

export interface OtherGpuProcess {
  pid: number;
  name: string;
}
