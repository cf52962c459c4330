import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { API, HistoryResponse, LeaderboardResponse, LedgerResponse, MeResponse, WeightsResponse } from '../../src-shared/protocol';
import { fakeRecomputer } from '../../src-validator/bench/sim/fake-teacher';
import { bundleOf, documents, honestLabels, leaseTask, MODEL_HASH, startHarness, STORE_KINDS, tokenizer, type Harness } from './harness';
import { randomOutputs } from './cheaters';

beforeAll(async () => {
  await cryptoWaitReady();
});

const EPOCH_MS = 3_600_000;
const EMISSION = 1_000_000_000n;

describe.each(STORE_KINDS)('accounting on %s', (kind) => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('turns validated tokens into shares, earnings, history, a leaderboard and u16 weights', async () => {
    h = await startHarness(kind, { redundancy: 2, epochMs: EPOCH_MS, epochEmissionNano: EMISSION });
    h.clock.now = 1_760_000_000_000 - (1_760_000_000_000 % EPOCH_MS) + 60_000;
    await h.validator.addDocuments(documents(80));
    const [a, b, c] = [h.miner(1), h.miner(2), h.miner(3)];
    // a and b share two tasks; c joins one of a's later tasks only.
    for (let round = 0; round < 2; round++) {
      const t = await leaseTask(a, { maxTokens: 300, gpuClass: 'RTX 4090', name: 'alpha' });
      expect((await leaseTask(b, { maxTokens: 300, gpuClass: 'RTX 3060' })).taskId).toBe(t.taskId);
      await a.submit(t.taskId, bundleOf(honestLabels(t, 1)));
      await b.submit(t.taskId, bundleOf(honestLabels(t, 2)));
    }
    const t3 = await leaseTask(a, { maxTokens: 300 });
    expect((await leaseTask(c, { maxTokens: 300, gpuClass: 'RTX 4090' })).taskId).toBe(t3.taskId);
    await a.submit(t3.taskId, bundleOf(honestLabels(t3, 1)));
    await c.submit(t3.taskId, bundleOf(honestLabels(t3, 3)));

    const me = async (m: typeof a) => MeResponse.parse((await m.get(API.me)).body);
    const [ma, mb, mc] = [await me(a), await me(b), await me(c)];
    const total = ma.validatedTokens + mb.validatedTokens + mc.validatedTokens;
    expect(ma.validatedTokens).toBeGreaterThan(mb.validatedTokens);
    expect(mc.validatedTokens).toBe(t3.tokens);
    expect(ma.epochShare).toBeCloseTo(ma.validatedTokens / total, 10);
    expect(BigInt(ma.earnedNano)).toBe((EMISSION * BigInt(ma.validatedTokens)) / BigInt(total));
    expect(ma.streak).toBe(3);
    expect(ma.name).toBe('alpha');

    const board = LeaderboardResponse.parse(await (await fetch(`${h.validator.url}${API.leaderboard}?page=1&pageSize=2`)).json());
    expect(board.total).toBe(3);
    expect(board.rows.map((r) => r.address)).toEqual([a.address, b.address]);
    expect(board.rows[0]).toMatchObject({ rank: 1, name: 'alpha', gpuClass: 'RTX 4090' });
    const page2 = LeaderboardResponse.parse(await (await fetch(`${h.validator.url}${API.leaderboard}?page=2&pageSize=2`)).json());
    expect(page2.rows).toHaveLength(1);
    expect(page2.rows[0]).toMatchObject({ rank: 3, address: c.address });
    const gpu = LeaderboardResponse.parse(await (await fetch(`${h.validator.url}${API.leaderboard}?gpuClass=RTX%204090`)).json());
    expect(gpu.rows.map((r) => r.address)).toEqual([a.address, c.address]);
    expect(gpu).not.toHaveProperty('me');

    // The user's own row and rank, whichever page it is on, within the same filter.
    const answer = async (query: string) => {
      const res = await fetch(`${h.validator.url}${API.leaderboard}?${query}`);
      return { status: res.status, body: (await res.json()) as unknown };
    };
    const ranked = async (query: string) => LeaderboardResponse.parse((await answer(query)).body);
    const cOnPage1 = await ranked(`page=1&pageSize=1&address=${c.address}`);
    expect(cOnPage1.rows.map((r) => r.address)).toEqual([a.address]);
    expect(cOnPage1.me).toEqual(page2.rows[0]);
    expect((await ranked(`pageSize=1&gpuClass=RTX%204090&address=${c.address}`)).me).toMatchObject({ rank: 2, address: c.address });
    expect((await ranked(`gpuClass=RTX%203060&address=${c.address}`)).me).toBeNull();
    expect((await ranked(`address=${h.miner(9).address}`)).me).toBeNull();
    for (const bad of ['nope', `${c.address}x`, c.address.replace(/.$/, (ch) => (ch === 'a' ? 'b' : 'a'))]) {
      const refused = await answer(`address=${encodeURIComponent(bad)}`);
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({ error: { code: 'bad-request' } });
    }

    const history = HistoryResponse.parse((await a.get(API.history)).body);
    expect(history.reduce((s, p) => s + p.validatedTokens, 0)).toBe(ma.validatedTokens);
    expect(history.every((p) => p.hourStartMs % 3_600_000 === 0)).toBe(true);

    // The epoch closes and, one epoch later, settles: weights for it, the ledger says credited.
    h.clock.now += 2 * EPOCH_MS;
    await h.validator.publishWeights();
    const weights = WeightsResponse.parse(await (await fetch(h.validator.url + API.weights)).json());
    expect(weights.epoch).toBe(Math.floor((h.clock.now - 2 * EPOCH_MS) / EPOCH_MS));
    const byAddress = new Map(weights.weights.map((w) => [w.address, w.weight]));
    expect(byAddress.get(a.address)).toBe(65535);
    expect(byAddress.get(c.address)).toBe(Math.round((mc.validatedTokens * 65535) / ma.validatedTokens));
    const file = join(h.dataDir, 'weights', `epoch-${weights.epoch}.json`);
    expect(existsSync(file)).toBe(true);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(weights);
    const ledger = LedgerResponse.parse((await a.get(`${API.ledger}?limit=2`)).body);
    expect(ledger.entries).toHaveLength(2);
    expect(ledger.entries.every((e) => e.status === 'credited' && BigInt(e.creditedNano) > 0n)).toBe(true);
    const rest = LedgerResponse.parse((await a.get(`${API.ledger}?limit=2&before=${encodeURIComponent(ledger.next!)}`)).body);
    expect(rest.entries).toHaveLength(1);
    expect(rest.next).toBeNull();
    const credited = [...ledger.entries, ...rest.entries].reduce((s, e) => s + BigInt(e.creditedNano), 0n);
    expect(credited).toBeLessThanOrEqual(BigInt(ma.earnedNano));
    expect(credited).toBeGreaterThan(BigInt(ma.earnedNano) - 3n);
    const settled = await me(a);
    expect(settled.epochShare).toBeNull();
    expect(settled.settledNano).toBe(settled.earnedNano);
  });

  it("ranks a miner's own leaderboard row as its page would, ties included", async () => {
    h = await startHarness(kind, { redundancy: 2, epochMs: EPOCH_MS });
    await h.validator.addDocuments(documents(40));
    // Two pairs of miners, each pair sharing one task: both of a pair get the same tokens.
    const [a, b, c, d] = [h.miner(1), h.miner(2), h.miner(3), h.miner(4)];
    for (const [x, y] of [
      [a, b],
      [c, d],
    ] as const) {
      const t = await leaseTask(x, { maxTokens: 300 });
      expect((await leaseTask(y, { maxTokens: 300 })).taskId).toBe(t.taskId);
      await x.submit(t.taskId, bundleOf(honestLabels(t, 1)));
      await y.submit(t.taskId, bundleOf(honestLabels(t, 2)));
    }
    const ranked = async (query: string) =>
      LeaderboardResponse.parse(await (await fetch(`${h.validator.url}${API.leaderboard}?${query}`)).json());
    const all = await ranked('pageSize=200');
    expect(all.rows.map((r) => r.rank)).toEqual([1, 2, 3, 4]);
    expect(all.rows[0]!.validatedTokens).toBe(all.rows[1]!.validatedTokens);
    expect(all.rows[2]!.validatedTokens).toBe(all.rows[3]!.validatedTokens);
    for (const row of all.rows) expect((await ranked(`pageSize=1&page=3&address=${row.address}`)).me).toEqual(row);
  });

  it('local mode validates a lone miner by re-computation within the first submissions', async () => {
    const recomputer = fakeRecomputer(MODEL_HASH, tokenizer);
    h = await startHarness(kind, { localMode: true, redundancy: 1, recomputers: [recomputer], allowDemoModel: true });
    await h.validator.addDocuments(documents(30));
    const miner = h.miner(1);
    const task = await leaseTask(miner, { maxTokens: 300 });
    const first = await miner.submit<{ status: string }>(task.taskId, bundleOf(honestLabels(task, 1)));
    expect(first.body.status).toBe('accepted');
    await h.validator.idle();
    const me = MeResponse.parse((await miner.get(API.me)).body);
    expect(me.validatedTokens).toBe(task.tokens);
    expect(me.epochShare).toBe(1);
    expect(BigInt(me.earnedNano)).toBe(1_000_000_000n);
    expect(recomputer.calls).toBe(1);
    // A lazy result is caught the same way and earns nothing.
    const lazy = await leaseTask(miner, { maxTokens: 300 });
    await miner.submit(lazy.taskId, randomOutputs(3)(lazy, { lastBundle: null }));
    await h.validator.idle();
    const ledger = LedgerResponse.parse((await miner.get(API.ledger)).body);
    expect(ledger.entries.find((e) => e.taskId === lazy.taskId)).toMatchObject({ status: 'rejected', creditedNano: '0' });
    expect(MeResponse.parse((await miner.get(API.me)).body).validatedTokens).toBe(task.tokens);
  });
});
