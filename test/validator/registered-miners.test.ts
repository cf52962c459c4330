import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { cryptoWaitReady, decodeAddress, encodeAddress } from '@polkadot/util-crypto';
import { API, type ErrorBody } from '../../src-shared/protocol';
import { silentLogger } from '../../src-node/log';
import { SimMiner } from '../../src-validator/bench/sim/sim-miner';
import { allowListFile, RefreshingMinerRegistry, startValidator, subnetMiners, type MinerRegistry } from '../../src-validator/index';
import type { MinerSource } from '../../src-validator/service/miner-registry';
import { FakeChain } from '../wallet/balance-fake-chain';
import { SubspaceFakeChain } from './subspace-fake-chain';
import {
  bundleOf,
  documents,
  honestLabels,
  leaseTask,
  MODEL_HASH,
  startHarness,
  STORE_KINDS,
  type Harness,
  type LeaseBody,
} from './harness';

beforeAll(async () => {
  await cryptoWaitReady();
});

const REGISTERED_SEED = 1;
const STRANGER_SEED = 2;
const addressOf = (seed: number) => SimMiner.fromSeed('http://unused', seed).address;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'nya-miners-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function allowList(lines: string[]): { path: string; registry: MinerRegistry } {
  const path = join(tempDir(), 'miners.txt');
  writeFileSync(path, lines.join('\n'));
  return { path, registry: new RefreshingMinerRegistry(allowListFile(path), 3_600_000, silentLogger) };
}

async function harness(kind: 'sqlite' | 'postgres', miners: MinerRegistry | null): Promise<Harness> {
  const h = await startHarness(kind, { miners });
  cleanups.push(() => h.close());
  await h.validator.addDocuments(documents(60));
  return h;
}

function expectRefused(res: { status: number; body: unknown }, status: number, code: string): void {
  expect(res.status).toBe(status);
  expect((res.body as ErrorBody).error.code).toBe(code);
}

describe.each(STORE_KINDS)('registered miners only, from an allow-list, on %s', (kind) => {
  it('refuses an unregistered fresh key a lease with 403 not-registered and leases it nothing', async () => {
    const { path, registry } = allowList(['# our miners', `${addressOf(REGISTERED_SEED)}  # alice`, '']);
    const h = await harness(kind, registry);
    const stranger = h.miner(STRANGER_SEED);
    const res = await stranger.lease<ErrorBody>({ maxTokens: 400 });
    expectRefused(res, 403, 'not-registered');
    expect(res.body.error.message).toContain(stranger.address);
    expect(res.body.error.message).toContain(path);
    expect(await h.validator.store.openLeases(stranger.address)).toMatchObject({ count: 0 });
    expect((await leaseTask(h.miner(REGISTERED_SEED))).documents.length).toBeGreaterThan(0);
  });

  it("refuses an unregistered key's result upload, and lets it read its account", async () => {
    const { registry } = allowList([addressOf(REGISTERED_SEED)]);
    const h = await harness(kind, registry);
    const task = await leaseTask(h.miner(REGISTERED_SEED));
    const stranger = h.miner(STRANGER_SEED);
    expectRefused(await stranger.submit(task.taskId, bundleOf(honestLabels(task, 5))), 403, 'not-registered');
    expect((await stranger.get(API.me)).status).toBe(200);
  });

  it('takes a key off after the refresh that no longer lists it: no leases, no results, account still readable', async () => {
    const { path, registry } = allowList([addressOf(REGISTERED_SEED), addressOf(STRANGER_SEED)]);
    const h = await harness(kind, registry);
    const miner = h.miner(REGISTERED_SEED);
    const task = await leaseTask(miner);
    writeFileSync(path, `${addressOf(STRANGER_SEED)}\n`);
    expect(await registry.refresh()).toBe(true);
    expectRefused(await miner.lease({ maxTokens: 400 }), 403, 'not-registered');
    expectRefused(await miner.submit(task.taskId, bundleOf(honestLabels(task, 5))), 403, 'not-registered');
    expect((await miner.get(API.me)).status).toBe(200);
    expect((await h.miner(STRANGER_SEED).lease<LeaseBody>({ maxTokens: 400 })).status).toBe(200);
  });
});

describe('the allow-list file', () => {
  it('is re-read when it changes, without waiting for the interval', async () => {
    const { path, registry } = allowList([addressOf(REGISTERED_SEED)]);
    const h = await harness('sqlite', registry);
    const stranger = h.miner(STRANGER_SEED);
    expectRefused(await stranger.lease({ maxTokens: 400 }), 403, 'not-registered');
    writeFileSync(path, `${addressOf(REGISTERED_SEED)}\n${addressOf(STRANGER_SEED)}\n`);
    await vi.waitFor(() => expect(registry.has(stranger.address)).toBe(true), { timeout: 5000, interval: 50 });
    expect((await stranger.lease<LeaseBody>({ maxTokens: 400 })).body.kind).toBe('task');
  });

  it('compares keys, not spellings: an address written for another SS58 network matches', async () => {
    const polkadotSpelling = encodeAddress(decodeAddress(addressOf(REGISTERED_SEED)), 0);
    expect(polkadotSpelling).not.toBe(addressOf(REGISTERED_SEED));
    const { registry } = allowList([polkadotSpelling]);
    const h = await harness('sqlite', registry);
    expect((await h.miner(REGISTERED_SEED).lease<LeaseBody>({ maxTokens: 400 })).body.kind).toBe('task');
  });

  it('stops start-up on a malformed line, naming the file and the line', async () => {
    const { path, registry } = allowList(['# miners', addressOf(REGISTERED_SEED), '5NotAnAddress']);
    const dataDir = tempDir();
    await expect(startValidator({ port: 0, dataDir, modelHash: MODEL_HASH, miners: registry })).rejects.toThrow(
      `${path} line 3: '5NotAnAddress' is not an SS58 address`,
    );
  });

  it('keeps the last good set when a refresh finds the file malformed or gone', async () => {
    const warnings: string[] = [];
    const dir = tempDir();
    const path = join(dir, 'miners.txt');
    writeFileSync(path, addressOf(REGISTERED_SEED));
    const registry = new RefreshingMinerRegistry(allowListFile(path), 3_600_000, { ...silentLogger, warn: (m) => warnings.push(m) });
    const h = await harness('sqlite', registry);
    writeFileSync(path, 'garbage');
    expect(await registry.refresh()).toBe(false);
    rmSync(path);
    expect(await registry.refresh()).toBe(false);
    expect(warnings.join('\n')).toMatch(/keeping the last 1 keys.*line 1: 'garbage'/s);
    expect((await h.miner(REGISTERED_SEED).lease<LeaseBody>({ maxTokens: 400 })).body.kind).toBe('task');
  });
});

describe('a registry that has not loaded yet', () => {
  it('refuses every lease with 503 unavailable until its first good read, then admits the registered', async () => {
    let reachable = false;
    const source: MinerSource = {
      description: 'a test chain',
      mustLoadAtStart: false,
      load: async () => {
        if (!reachable) throw new Error('connection refused');
        return [addressOf(REGISTERED_SEED)];
      },
    };
    const registry = new RefreshingMinerRegistry(source, 3_600_000, silentLogger);
    const h = await harness('sqlite', registry);
    const res = await h.miner(REGISTERED_SEED).lease<ErrorBody>({ maxTokens: 400 });
    expectRefused(res, 503, 'unavailable');
    expect(res.body.error.message).toContain('a test chain');
    reachable = true;
    expect(await registry.refresh()).toBe(true);
    expect((await h.miner(REGISTERED_SEED).lease<LeaseBody>({ maxTokens: 400 })).body.kind).toBe('task');
    expectRefused(await h.miner(STRANGER_SEED).lease(), 403, 'not-registered');
  });
});

describe('without --miners-from', () => {
  it('leases to any key, as before', async () => {
    const h = await harness('sqlite', null);
    expect((await h.miner(STRANGER_SEED).lease<LeaseBody>({ maxTokens: 400 })).body.kind).toBe('task');
  });
});

describe('registered miners only, from a Commune subnet', () => {
  const NETUID = 7;

  async function subspace(): Promise<SubspaceFakeChain> {
    const chain = new SubspaceFakeChain();
    await chain.start(0);
    cleanups.push(() => chain.stop());
    return chain;
  }

  function subnetRegistry(chain: SubspaceFakeChain, warnings: string[] = []): MinerRegistry {
    return new RefreshingMinerRegistry(subnetMiners({ endpoint: chain.url, netuid: NETUID, timeoutMs: 5000 }), 3_600_000, {
      ...silentLogger,
      warn: (m) => warnings.push(m),
    });
  }

  it("leases to the subnet's module keys only, read over @polkadot/api, and drops a key deregistered at the next refresh", async () => {
    const chain = await subspace();
    chain.register(NETUID, 0, addressOf(REGISTERED_SEED));
    chain.register(NETUID + 1, 0, addressOf(STRANGER_SEED));
    const registry = subnetRegistry(chain);
    const h = await harness('sqlite', registry);
    const stranger = h.miner(STRANGER_SEED);
    const refused = await stranger.lease<ErrorBody>({ maxTokens: 400 });
    expectRefused(refused, 403, 'not-registered');
    expect(refused.body.error.message).toContain(`subnet ${NETUID}`);
    expect(await h.validator.store.openLeases(stranger.address)).toMatchObject({ count: 0 });
    const miner = h.miner(REGISTERED_SEED);
    const task = await leaseTask(miner);
    chain.deregister(NETUID, 0);
    chain.register(NETUID, 1, stranger.address);
    expect(await registry.refresh()).toBe(true);
    expectRefused(await miner.lease(), 403, 'not-registered');
    expectRefused(await miner.submit(task.taskId, bundleOf(honestLabels(task, 5))), 403, 'not-registered');
    expect((await stranger.lease<LeaseBody>({ maxTokens: 400 })).body.kind).toBe('task');
    expect(chain.unknown).toEqual([]);
  });

  it('answers 503 while the node is down at start, keeps the last good set when it goes down later', async () => {
    const chain = await subspace();
    chain.register(NETUID, 0, addressOf(REGISTERED_SEED));
    const port = chain.port;
    await chain.stop();
    const warnings: string[] = [];
    const registry = subnetRegistry(chain, warnings);
    const h = await harness('sqlite', registry);
    const miner = h.miner(REGISTERED_SEED);
    expectRefused(await miner.lease(), 503, 'unavailable');
    expect(warnings.join('\n')).toContain('no keys loaded yet');
    await chain.start(port);
    expect(await registry.refresh()).toBe(true);
    expect((await miner.lease<LeaseBody>({ maxTokens: 400 })).body.kind).toBe('task');
    await chain.stop();
    expect(await registry.refresh()).toBe(false);
    expect(warnings.at(-1)).toContain('keeping the last 1 keys');
    expect((await miner.lease<LeaseBody>({ maxTokens: 400 })).body.kind).toBe('task');
  });

  it('names a node without the storage item instead of admitting anyone', async () => {
    const plain = new FakeChain();
    await plain.start(0);
    cleanups.push(() => plain.stop());
    const warnings: string[] = [];
    const registry = new RefreshingMinerRegistry(subnetMiners({ endpoint: plain.url, netuid: NETUID, timeoutMs: 5000 }), 3_600_000, {
      ...silentLogger,
      warn: (m) => warnings.push(m),
    });
    await registry.start();
    cleanups.push(() => registry.dispose());
    expect(registry.loaded).toBe(false);
    expect(warnings.join('\n')).toContain('has no storage subspaceModule.keys');
  });
});
