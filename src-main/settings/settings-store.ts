import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_SETTINGS, Settings } from '../../src-shared/state';
import { writeFileAtomicSync } from '../../src-node/atomic-write';
import { Emitter, type Event } from '../../src-node/event';
import type { Logger } from '../../src-node/log';

/**
 * The user's settings, one JSON file in the data folder. Read once at start (parse, don't
 * validate: a hand-edited or corrupt file falls back to defaults and is kept aside, never lost),
 * written atomically on every change.
 */
export class SettingsStore {
  private current: Settings;
  private readonly changed = new Emitter<{ before: Settings; after: Settings }>();
  /** Every consumer of a setting subscribes here; it hears the whole settings before and after. */
  readonly onChange: Event<{ before: Settings; after: Settings }> = this.changed.event;
  readonly path: string;

  constructor(
    dataDir: string,
    private readonly log: Logger,
    overrides: Partial<Settings> = {},
  ) {
    mkdirSync(dataDir, { recursive: true });
    this.path = join(dataDir, 'settings.json');
    this.current = { ...this.load(), ...overrides };
  }

  get(): Settings {
    return this.current;
  }

  /** Apply an already-parsed patch, persist, notify. */
  update(patch: Partial<Settings>): Settings {
    const next = Settings.parse({ ...this.current, ...patch });
    writeFileAtomicSync(this.path, `${JSON.stringify(next, null, 2)}\n`);
    const before = this.current;
    this.current = next;
    this.changed.fire({ before, after: next });
    return next;
  }

  private load(): Settings {
    if (!existsSync(this.path)) return DEFAULT_SETTINGS;
    try {
      const parsed = Settings.partial().parse(JSON.parse(readFileSync(this.path, 'utf8')));
      return { ...DEFAULT_SETTINGS, ...parsed };
    } catch (error) {
      const aside = `${this.path}.corrupt-${Date.now()}`;
      renameSync(this.path, aside);
      this.log.warn(`settings file was unreadable (${(error as Error).message}); using defaults, kept it as ${aside}`);
      return DEFAULT_SETTINGS;
    }
  }
}
