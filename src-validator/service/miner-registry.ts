import { decodeAddress, encodeAddress } from '@polkadot/util-crypto';
import { SS58_PREFIX } from '../../src-shared/protocol';
import { errorMessage, type Logger } from '../../src-node/log';
import type { Disposable } from '../../src-node/event';

/**
 * The keys this validator leases to (`nya validator --miners-from`). A key not in the set gets
 * 403 `not-registered` on a lease or a result upload; before the first set has loaded, every key
 * gets 503 `unavailable`: an outage of the source must not open the validator to everyone.
 */
export interface MinerRegistry {
  /** Where the set comes from, for messages: "the allow-list /etc/nya/miners.txt". */
  readonly source: string;
  /** False until a set has loaded once. */
  readonly loaded: boolean;
  has(address: string): boolean;
  /** Reads the set again now; a failure keeps the last good set, logs it, and resolves false. */
  refresh(): Promise<boolean>;
  /** Loads the first set and starts refreshing; rejects where a source's failure is the operator's to fix at once. */
  start(): Promise<void>;
  dispose(): Promise<void>;
}

/** What an adapter supplies: the current set, read whole. */
export interface MinerSource {
  readonly description: string;
  /** SS58 addresses of any prefix; they are compared by public key. */
  load(): Promise<Iterable<string>>;
  /** Calls back when the source may have changed between refreshes (a file edited). */
  watch?(onChange: () => void): Disposable;
  /** A load that fails at start-up stops the validator (a malformed file) instead of waiting in 503. */
  readonly mustLoadAtStart: boolean;
  dispose?(): Promise<void>;
}

export const DEFAULT_MINERS_REFRESH_MS = 5 * 60_000;

/** One spelling per key: the protocol's SS58 prefix, which is how an authenticated request names its key. */
function canonicalAddress(address: string): string {
  return encodeAddress(decodeAddress(address), SS58_PREFIX);
}

/** A source read on start, every `refreshMs`, and on the source's own change signal. */
export class RefreshingMinerRegistry implements MinerRegistry {
  private keys: ReadonlySet<string> | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private watcher: Disposable | null = null;
  private inFlight: Promise<boolean> | null = null;
  private failedLast = false;

  constructor(
    private readonly miners: MinerSource,
    private readonly refreshMs: number,
    private readonly log: Logger,
  ) {}

  get source(): string {
    return this.miners.description;
  }

  get loaded(): boolean {
    return this.keys !== null;
  }

  has(address: string): boolean {
    return this.keys?.has(address) ?? false;
  }

  refresh(): Promise<boolean> {
    // Overlapping reads (a timer and a file change) share one: the later could otherwise land first.
    this.inFlight ??= this.load()
      .then(() => true)
      .catch((error: unknown) => {
        this.logFailure(error);
        return false;
      })
      .finally(() => {
        this.inFlight = null;
      });
    return this.inFlight;
  }

  async start(): Promise<void> {
    if (this.miners.mustLoadAtStart) await this.load();
    else await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.refreshMs);
    this.timer.unref();
    this.watcher = this.miners.watch?.(() => void this.refresh()) ?? null;
  }

  async dispose(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.watcher?.dispose();
    this.watcher = null;
    await this.inFlight;
    await this.miners.dispose?.();
  }

  private async load(): Promise<void> {
    const next = new Set<string>();
    for (const address of await this.miners.load()) next.add(canonicalAddress(address));
    const before = this.keys;
    this.keys = next;
    if (this.failedLast || !before || before.size !== next.size || [...next].some((k) => !before.has(k))) {
      this.log.info(`registered miners: ${next.size} from ${this.source}`);
    }
    this.failedLast = false;
  }

  private logFailure(error: unknown): void {
    const keeping = this.keys ? `keeping the last ${this.keys.size} keys` : 'no keys loaded yet, so every lease is refused with 503';
    this.log.warn(`registered miners: reading ${this.source} failed (${keeping}): ${errorMessage(error)}`);
    this.failedLast = true;
  }
}
