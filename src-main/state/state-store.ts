import type { StateSnapshot } from '../../src-shared/state';
import { Emitter, type Event } from '../../src-node/event';

export type SnapshotBody = Omit<StateSnapshot, 'schemaVersion' | 'seq' | 'atMs' | 'logs'>;

/**
 * The narrow door through which one service writes its part of the snapshot. It reads and
 * writes only the keys it was given, so who writes a figure is answered by who holds its writer.
 */
export interface StateWriter<K extends keyof SnapshotBody> {
  get(): Pick<SnapshotBody, K>;
  update(patch: Partial<Pick<SnapshotBody, K>> | ((current: Pick<SnapshotBody, K>) => Partial<Pick<SnapshotBody, K>>)): void;
}

export interface StateStoreOptions {
  now?: () => number;
  /** Pushes are coalesced to at most one per interval (a few per second). */
  pushIntervalMs?: number;
  /** The recent log lines to include in each snapshot. */
  logTail?: () => StateSnapshot['logs'];
  /** Bumped when new log lines arrive so a push follows them. */
  logSeq?: () => number;
}

/**
 * Main owns the state: each service writes its own part through a writer, every view reads the same snapshot.
 * Writes are immediate; pushes to listeners are throttled (leading and trailing edge), so a burst
 * of progress updates costs a view a few renders a second, never a render per token.
 */
export class StateStore {
  private body: SnapshotBody;
  private seq = 0;
  private readonly pushed = new Emitter<StateSnapshot>();
  /** A throttled push of the whole snapshot (what every view renders). */
  readonly onChange: Event<StateSnapshot> = this.pushed.event;
  private readonly owners = new Map<keyof SnapshotBody, string>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastPushAtMs = -Infinity;
  private dirty = false;
  private readonly now: () => number;
  private readonly pushIntervalMs: number;

  constructor(
    initial: SnapshotBody,
    private readonly options: StateStoreOptions = {},
  ) {
    this.body = initial;
    this.now = options.now ?? Date.now;
    this.pushIntervalMs = options.pushIntervalMs ?? 250;
  }

  get(): StateSnapshot {
    return {
      schemaVersion: 1,
      seq: this.seq + (this.options.logSeq?.() ?? 0),
      atMs: this.now(),
      ...this.body,
      logs: this.options.logTail?.() ?? [],
    };
  }

  /**
   * The one writer of `keys`, held by `owner`. A key has exactly one owner: a second claim is a
   * wiring mistake and throws at start-up, not a race between two services at run time.
   */
  writer<K extends keyof SnapshotBody>(owner: string, ...keys: K[]): StateWriter<K> {
    for (const key of keys) {
      const held = this.owners.get(key);
      if (held !== undefined)
        throw new Error(`the snapshot's "${String(key)}" is already written by ${held}; ${owner} cannot write it too`);
    }
    for (const key of keys) this.owners.set(key, owner);
    const pick = (): Pick<SnapshotBody, K> => Object.fromEntries(keys.map((k) => [k, this.body[k]])) as Pick<SnapshotBody, K>;
    const allowed = new Set<keyof SnapshotBody>(keys);
    return {
      get: pick,
      update: (patch) => {
        const delta = typeof patch === 'function' ? patch(pick()) : patch;
        for (const key of Object.keys(delta) as (keyof SnapshotBody)[]) {
          if (!allowed.has(key)) throw new Error(`${owner} may not write the snapshot's "${String(key)}"`);
        }
        this.apply(delta);
      },
    };
  }

  /** Who writes each part of the snapshot (for the docs and the wiring test). */
  ownerOf(key: keyof SnapshotBody): string | null {
    return this.owners.get(key) ?? null;
  }

  private apply(delta: Partial<SnapshotBody>): void {
    this.body = { ...this.body, ...delta };
    this.seq++;
    this.schedulePush();
  }

  /** Something outside the body changed (new log lines): push without a body change. */
  touch(): void {
    this.schedulePush();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pushed.dispose();
  }

  private schedulePush(): void {
    this.dirty = true;
    if (this.timer) return;
    const wait = Math.max(0, this.lastPushAtMs + this.pushIntervalMs - this.now());
    this.timer = setTimeout(() => this.flush(), wait);
    this.timer.unref?.();
  }

  private flush(): void {
    this.timer = null;
    if (!this.dirty) return;
    this.dirty = false;
    this.lastPushAtMs = this.now();
    this.pushed.fire(this.get());
  }
}
