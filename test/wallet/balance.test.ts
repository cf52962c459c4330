import { afterEach, describe, expect, it } from 'vitest';
import type { ApiPromise } from '@polkadot/api';
import { BalanceService } from '../../src-main/wallet/balance/balance-service';
import { silentLogger } from '../../src-node/log';
import type { BalanceState } from '../../src-shared/wallet-contract';
import { FakeChain } from './balance-fake-chain';

const ALICE = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY';
const BOB = '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function chain(): Promise<FakeChain> {
  const c = new FakeChain();
  await c.start(0);
  cleanups.push(() => c.stop());
  return c;
}

function service(endpoint: string, extra: Partial<ConstructorParameters<typeof BalanceService>[0]> = {}): BalanceService {
  const s = new BalanceService({
    endpoint,
    log: silentLogger,
    timeoutMs: 5000,
    backoff: { baseMs: 100, capMs: 300, floorMs: 50 },
    ...extra,
  });
  cleanups.push(() => s.dispose());
  return s;
}

function until(s: BalanceService, pred: (st: BalanceState) => boolean, timeoutMs = 15_000): Promise<BalanceState> {
  if (pred(s.state)) return Promise.resolve(s.state);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`state never matched; last ${JSON.stringify(s.state)}`)), timeoutMs);
    const off = s.onChange((st) => {
      if (!pred(st)) return;
      clearTimeout(timer);
      off.dispose();
      resolve(st);
    });
  });
}

describe('BalanceService', () => {
  it('reads free balances over @polkadot/api from a JSON-RPC WebSocket node, as nano decimal strings', async () => {
    const c = await chain();
    c.setAccount(ALICE, 123_456_789_012_345_678n);
    const s = service(c.url);
    s.setAddresses([ALICE, BOB]);
    s.start();
    const st = await until(s, (x) => x.state === 'online');
    expect(st).toMatchObject({
      state: 'online',
      balances: [
        { address: ALICE, freeNano: '123456789012345678', stakedNano: null },
        { address: BOB, freeNano: '0', stakedNano: null },
      ],
    });
    expect(c.unknown).toEqual([]);
  });

  it('asks the pluggable staked query over the same connection, and a failing one leaves stake unknown, not the page', async () => {
    const c = await chain();
    c.setAccount(ALICE, 5_000_000_000n, 7_250_000_000n);
    // Stands in for Commune's subspaceModule.stakeTo, which the Substrate test metadata lacks.
    const reserved = async (api: ApiPromise, address: string) => {
      const account = (await api.query.system!.account!(address)) as unknown as { data: { reserved: { toString(): string } } };
      return BigInt(account.data.reserved.toString());
    };
    const s = service(c.url, { stakedQuery: reserved });
    s.setAddresses([ALICE]);
    s.start();
    expect(await until(s, (x) => x.state === 'online')).toMatchObject({
      balances: [{ address: ALICE, freeNano: '5000000000', stakedNano: '7250000000' }],
    });

    const broken = service(c.url, { stakedQuery: () => Promise.reject(new Error('no such storage')) });
    broken.setAddresses([ALICE]);
    broken.start();
    expect(await until(broken, (x) => x.state === 'online')).toMatchObject({ balances: [{ freeNano: '5000000000', stakedNano: null }] });
  });

  it('is offline with a retry time while the node is down, then recovers by itself when it comes up', async () => {
    const c = await chain();
    const port = c.port;
    await c.stop();
    c.setAccount(ALICE, 42n);
    const s = service(c.url, { now: () => Date.now() });
    s.setAddresses([ALICE]);
    const before = Date.now();
    s.start();
    const offline = await until(s, (x) => x.state === 'offline');
    if (offline.state !== 'offline') throw new Error('unreachable');
    expect(offline.error).toContain(c.url);
    // The socket's ErrorEvent is no Error: its message, as a sentence, not "[object Object]" (issue 19).
    expect(offline.error).toMatch(/: connect ECONNREFUSED \S+\.$/);
    expect(offline.error).not.toContain('[object');
    expect(offline.retryAtMs).toBeGreaterThanOrEqual(before);
    expect(offline.last).toBeNull();
    await c.start(port);
    expect(await until(s, (x) => x.state === 'online')).toMatchObject({ balances: [{ address: ALICE, freeNano: '42' }] });
  });

  it('keeps the last balances through a dropped connection and reads fresh ones after reconnecting', async () => {
    const c = await chain();
    c.setAccount(ALICE, 1_000n);
    const s = service(c.url);
    s.setAddresses([ALICE]);
    s.start();
    await until(s, (x) => x.state === 'online');
    const port = c.port;
    await c.stop();
    const offline = await until(s, (x) => x.state === 'offline');
    expect(offline).toMatchObject({ state: 'offline', last: { balances: [{ address: ALICE, freeNano: '1000' }] } });
    c.setAccount(ALICE, 2_000n);
    await c.start(port);
    expect(await until(s, (x) => x.state === 'online')).toMatchObject({ balances: [{ freeNano: '2000' }] });
    // refresh() answers with a state, never a rejection, even when the node is gone again.
    await c.stop();
    await until(s, (x) => x.state === 'offline');
    await expect(s.refresh()).resolves.toMatchObject({ state: 'offline' });
  });

  it('goes idle without addresses and never touches the network', async () => {
    const c = await chain();
    const s = service(c.url);
    s.start();
    expect(await s.refresh()).toEqual({ state: 'idle' });
    expect(c.calls).toEqual([]);
  });
});

describe('BalanceService endpoint', () => {
  it('moves to another RPC when the user changes it, reading from the new node', async () => {
    const down = await chain();
    await down.stop();
    const up = await chain();
    up.setAccount(ALICE, 7n);
    const s = service(down.url);
    s.setAddresses([ALICE]);
    s.start();
    await until(s, (x) => x.state === 'offline');
    s.setEndpoint(up.url);
    expect(s.endpoint).toBe(up.url);
    expect(await until(s, (x) => x.state === 'online')).toMatchObject({ endpoint: up.url, balances: [{ address: ALICE, freeNano: '7' }] });
  });
});
