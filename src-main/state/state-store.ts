import type { StateSnapshot } from '../../src-shared/state';

export type SnapshotBody = Omit<StateSnapshot, 'schemaVersion' | 'seq' | 'atMs' | 'logs'>;
export type Listener = (snapshot: StateSnapshot) => void;

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
 * Main owns the state: services write into this store, every view reads the same snapshot.
 * Writes are immediate; pushes to listeners are throttled (leading and trailing edge), so a burst
 * of progress updates costs a view a few renders a second, never a render per token.
 */
export class StateStore {
  private body: SnapshotBody;
  private seq = 0;
  private readonly listeners = new Set<Listener>();
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

  /** Replace part of the state; the update function gets the current body and returns a patch. */
  update(patch: Partial<SnapshotBody> | ((current: SnapshotBody) => Partial<SnapshotBody>)): void {
    const delta = typeof patch === 'function' ? patch(this.body) : patch;
    this.body = { ...this.body, ...delta };
    this.seq++;
    this.schedulePush();
  }

  /** Something outside the body changed (new log lines): push without a body change. */
  touch(): void {
    this.schedulePush();
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.listeners.clear();
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
    const snapshot = this.get();
    for (const listener of this.listeners) listener(snapshot);
  }
}
