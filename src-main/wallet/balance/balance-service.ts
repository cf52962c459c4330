import type { ApiPromise } from '@polkadot/api';
import { connectCommune, DEFAULT_COMMUNE_RPC } from '../../../src-node/commune-api';
import type { AccountBalance, BalanceState } from '../../../src-shared/wallet-contract';
import { errorMessage, type Logger } from '../../../src-node/log';
import { backoffDelayMs, DEFAULT_BACKOFF, type BackoffPolicy } from '../../../src-node/backoff';
import { Emitter, type Event } from '../../../src-node/event';
import { withTimeout } from '../../../src-node/timeout';

/** Commune mainnet (../shared/SEED.md). */

/**
 * How much an address has staked, in nano, or null where this chain has no stake storage the
 * query knows. Pluggable because Commune's runtime has moved its stake storage between
 * releases; the app can swap the query without touching the connection code.
 */
export type StakedQuery = (api: ApiPromise, address: string) => Promise<bigint | null>;

/**
 * Commune's subspace pallet keeps stake as `SubspaceModule::StakeTo`: a double map
 * staker → module → amount (what `comx balance` sums; older runtimes held a
 * `Vec<(AccountId, u64)>` per staker). The total staked by an address is the sum over its
 * entries. Chains without the pallet (a plain Substrate node) answer null: "not known", not 0.
 */
const subspaceStakeTo: StakedQuery = async (api, address) => {
  const stakeTo = api.query.subspaceModule?.stakeTo;
  if (!stakeTo) return null;
  const entries = await stakeTo.entries(address);
  let total = 0n;
  for (const [, value] of entries) total += sumAmounts(value.toJSON());
  return total;
};

function sumAmounts(json: unknown): bigint {
  if (typeof json === 'number' || typeof json === 'string') return BigInt(json);
  // Vec<(AccountId, u64)>: the amount is the tuple's second element.
  if (Array.isArray(json))
    return json.reduce<bigint>((sum, item) => sum + (Array.isArray(item) ? sumAmounts(item[1]) : sumAmounts(item)), 0n);
  return 0n;
}

export interface BalanceServiceOptions {
  endpoint?: string;
  log: Logger;
  stakedQuery?: StakedQuery;
  /** How often balances are read again while connected. */
  pollMs?: number;
  /** Connect and per-call timeout. */
  timeoutMs?: number;
  backoff?: Partial<BackoffPolicy>;
  now?: () => number;
  random?: () => number;
}

const DEFAULT_POLL_MS = 30_000;
const DEFAULT_TIMEOUT_MS = 20_000;

/**
 * Free and staked balances of the wallet's addresses on the Commune chain. The connection is
 * ours, not @polkadot/api's auto-reconnect: a lost or refused connection becomes the `offline`
 * state with the time of the next try (full-jitter backoff), and the UI shows that state. No
 * method rejects because the chain is unreachable.
 */
export class BalanceService {
  private currentEndpoint: string;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly backoff: BackoffPolicy;
  private readonly stakedQuery: StakedQuery;
  private readonly pollMs: number;
  private readonly timeoutMs: number;
  private addresses: string[] = [];
  private current: BalanceState = { state: 'idle' };
  private lastGood: { balances: AccountBalance[]; atMs: number } | null = null;
  private api: ApiPromise | null = null;
  private connecting: Promise<ApiPromise | null> | null = null;
  private failuresInRow = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private started = false;
  private readonly changes = new Emitter<BalanceState>((error) => this.o.log.error(`a balance listener failed: ${errorMessage(error)}`));
  /** Fires with each new state. */
  readonly onChange: Event<BalanceState> = this.changes.event;

  constructor(private readonly o: BalanceServiceOptions) {
    this.currentEndpoint = o.endpoint ?? DEFAULT_COMMUNE_RPC;
    this.now = o.now ?? Date.now;
    this.random = o.random ?? Math.random;
    this.backoff = { ...DEFAULT_BACKOFF, capMs: 5 * 60_000, ...o.backoff };
    this.stakedQuery = o.stakedQuery ?? subspaceStakeTo;
    this.pollMs = o.pollMs ?? DEFAULT_POLL_MS;
    this.timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  get state(): BalanceState {
    return this.current;
  }

  get endpoint(): string {
    return this.currentEndpoint;
  }

  /** Another Commune RPC (the user changed it in Settings): drop the old connection, read from the new one. */
  setEndpoint(endpoint: string | null): void {
    const next = endpoint ?? DEFAULT_COMMUNE_RPC;
    if (next === this.currentEndpoint) return;
    this.currentEndpoint = next;
    this.failuresInRow = 0;
    this.lastGood = null;
    this.clearTimer();
    // A connection still opening to the old node gives itself up (openApi), then the new one opens.
    void Promise.resolve(this.connecting)
      .then(() => this.closeApi())
      .then(() => {
        if (this.addresses.length > 0) void this.refresh();
      });
  }

  start(): void {
    this.started = true;
    if (this.addresses.length > 0) void this.refresh();
  }

  async dispose(): Promise<void> {
    this.started = false;
    this.clearTimer();
    this.changes.dispose();
    await this.closeApi();
  }

  /** The addresses to read (mining and payout); an empty list disconnects and goes idle. */
  setAddresses(addresses: readonly string[]): void {
    const next = [...new Set(addresses)];
    if (next.length === this.addresses.length && next.every((a, i) => a === this.addresses[i])) return;
    this.addresses = next;
    this.lastGood = null;
    if (next.length === 0) {
      this.clearTimer();
      void this.closeApi();
      this.set({ state: 'idle' });
      return;
    }
    if (this.started) void this.refresh();
  }

  /** Reads now (connecting first if needed) and resolves with the resulting state; never rejects. */
  async refresh(): Promise<BalanceState> {
    if (!this.started || this.addresses.length === 0) return this.current;
    this.clearTimer();
    const api = this.api ?? (await this.connect());
    if (!api) return this.current;
    const addresses = this.addresses;
    try {
      const balances = await withTimeout(
        Promise.all(addresses.map((address) => this.read(api, address))),
        this.timeoutMs,
        'reading balances',
      );
      if (addresses !== this.addresses || api !== this.api) return this.current;
      this.failuresInRow = 0;
      this.lastGood = { balances, atMs: this.now() };
      this.set({ state: 'online', endpoint: this.endpoint, balances, atMs: this.lastGood.atMs });
      this.schedule(this.pollMs);
    } catch (error) {
      if (api === this.api) this.wentOffline(`The chain did not answer: ${errorMessage(error)}`);
    }
    return this.current;
  }

  private async read(api: ApiPromise, address: string): Promise<AccountBalance> {
    const accountQuery = api.query.system?.account;
    if (!accountQuery) throw new Error('the chain has no System.Account storage');
    const account = (await accountQuery(address)) as unknown as { data: { free: { toString(): string } } };
    let staked: bigint | null;
    try {
      staked = await this.stakedQuery(api, address);
    } catch (error) {
      this.o.log.warn(`balance: reading the stake of ${address} failed: ${errorMessage(error)}`);
      staked = null;
    }
    return { address, freeNano: BigInt(account.data.free.toString()).toString(), stakedNano: staked === null ? null : staked.toString() };
  }

  private connect(): Promise<ApiPromise | null> {
    this.connecting ??= this.openApi().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private async openApi(): Promise<ApiPromise | null> {
    const endpoint = this.endpoint;
    if (this.current.state !== 'offline') this.set({ state: 'connecting', endpoint });
    let api: ApiPromise;
    try {
      api = await connectCommune(endpoint, this.timeoutMs);
    } catch (error) {
      // The user moved to another node meanwhile: this failure is not news about it.
      if (endpoint === this.endpoint) this.wentOffline(`Cannot reach the Commune RPC at ${endpoint}: ${errorMessage(error)}`);
      return null;
    }
    if (!this.started || endpoint !== this.endpoint) {
      await api.disconnect().catch(() => undefined);
      return null;
    }
    api.on('disconnected', () => {
      if (this.api !== api) return;
      this.api = null;
      void api.disconnect().catch(() => undefined);
      this.wentOffline(`Lost the connection to ${this.endpoint}.`);
    });
    this.api = api;
    this.o.log.info(`balance: connected to ${this.endpoint}`);
    return api;
  }

  private wentOffline(reason: string): void {
    if (!this.started) return;
    // The page shows it between "Offline:" and "Next try at …".
    const error = /[.!?]$/.test(reason) ? reason : `${reason}.`;
    const delayMs = backoffDelayMs(this.failuresInRow, this.random, this.backoff);
    this.failuresInRow += 1;
    if (this.current.state !== 'offline') this.o.log.warn(`balance: ${error} Retrying with backoff.`);
    const dropped = this.api;
    this.api = null;
    if (dropped) void dropped.disconnect().catch(() => undefined);
    this.set({ state: 'offline', endpoint: this.endpoint, error, retryAtMs: this.now() + delayMs, last: this.lastGood });
    this.schedule(delayMs);
  }

  private schedule(delayMs: number): void {
    this.clearTimer();
    if (!this.started) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.refresh();
    }, delayMs);
    this.timer.unref?.();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private async closeApi(): Promise<void> {
    const api = this.api;
    this.api = null;
    if (api) await api.disconnect().catch(() => undefined);
  }

  private set(state: BalanceState): void {
    this.current = state;
    this.changes.fire(state);
  }
}
