import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomicSync } from '../../src-node/atomic-write';
import type { Logger } from '../../src-node/log';

/**
 * What the desktop app remembers beyond the shared settings: login item and update choices (the
 * tray toggles them), whether the close-to-tray notice was shown, and the user's pause, so a
 * crash or reboot brings the miner back paused if the user had paused it. One small JSON file in
 * userData, written atomically; unreadable → defaults, the old file kept aside.
 */
export const DesktopPrefs = z.object({
  openAtLogin: z.boolean().default(true),
  updateChecks: z.boolean().default(true),
  closeToTrayNoticeShown: z.boolean().default(false),
  userPause: z.object({ paused: z.boolean(), untilMs: z.number().nullable() }).default({ paused: false, untilMs: null }),
});
export type DesktopPrefs = z.infer<typeof DesktopPrefs>;

export class DesktopPrefsStore {
  readonly path: string;
  private current: DesktopPrefs;

  constructor(
    dataDir: string,
    private readonly log: Logger,
  ) {
    this.path = join(dataDir, 'desktop.json');
    this.current = this.load();
  }

  get(): DesktopPrefs {
    return this.current;
  }

  update(patch: Partial<DesktopPrefs>): DesktopPrefs {
    const next = DesktopPrefs.parse({ ...this.current, ...patch });
    if (JSON.stringify(next) === JSON.stringify(this.current)) return next;
    mkdirSync(join(this.path, '..'), { recursive: true });
    writeFileAtomicSync(this.path, `${JSON.stringify(next, null, 2)}\n`);
    this.current = next;
    return next;
  }

  private load(): DesktopPrefs {
    if (!existsSync(this.path)) return DesktopPrefs.parse({});
    try {
      return DesktopPrefs.parse(JSON.parse(readFileSync(this.path, 'utf8')));
    } catch (error) {
      const aside = `${this.path}.corrupt-${Date.now()}`;
      renameSync(this.path, aside);
      this.log.warn(`desktop preferences were unreadable (${(error as Error).message}); using defaults, kept the file as ${aside}`);
      return DesktopPrefs.parse({});
    }
  }
}

/** The pause to restore at start: an expired timed pause is no pause. */
export function pauseToRestore(saved: DesktopPrefs['userPause'], nowMs: number): { paused: boolean; forMs?: number } {
  if (!saved.paused) return { paused: false };
  if (saved.untilMs === null) return { paused: true };
  const left = saved.untilMs - nowMs;
  return left > 0 ? { paused: true, forMs: left } : { paused: false };
}
