import { request } from 'node:http';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { API, HEADER_KEY, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIMESTAMP, type Task } from '../../src-shared/protocol';
import { sha256Hex } from '../../src-shared/request-signing';
import { signFast, type SimMiner } from '../../src-validator/bench/sim/sim-miner';
import { BASE_OPEN_LEASES, MAX_OPEN_LEASES, MAX_TASK_DOCUMENTS } from '../../src-validator/config';
import { clientAddressOf } from '../../src-validator/http/rate-limit';
import { bundleOf, documents, honestLabels, leaseTask, startHarness, STORE_KINDS, type Harness, type LeaseBody } from './harness';

beforeAll(async () => {
  await cryptoWaitReady();
});

const SEQ_LEN = 64;
/** The most one task can lock: MAX_TASK_DOCUMENTS documents of at most seqLen positions. */
const MAX_TASK_TOKENS = MAX_TASK_DOCUMENTS * SEQ_LEN;
/** What a hoarder asks for: the largest task there is, whatever its real speed. */
const GREEDY = { tokensPerS: 1e9, maxTokens: 1_000_000 };

/** Leases as fast as the answers come, `tries` times; returns the tasks and the last refusal. */
async function leaseAll(miner: SimMiner, tries: number, req: Record<string, unknown> = GREEDY) {
  const tasks: Task[] = [];
  let refusal: LeaseBody | null = null;
  for (let i = 0; i < tries; i++) {
    const res = await miner.lease<LeaseBody>(req);
    expect(res.status).toBe(200);
    if (res.body.kind === 'task') tasks.push(res.body.task);
    else refusal = res.body;
  }
  return { tasks, tokens: tasks.reduce((s, t) => s + (t.tokens ?? 0), 0), refusal };
}

async function deliver(miner: SimMiner, task: Task, seed: number): Promise<void> {
  const res = await miner.submit<{ status: string }>(task.taskId, bundleOf(honestLabels(task, seed)));
  expect(res.status).toBe(200);
  expect(res.body.status).not.toBe('rejected');
}

interface Answer {
  status: number;
  retryAfter: string | undefined;
  body: { error?: { code: string } };
}

/** A signed GET from a chosen local address (all of 127/8 is loopback), so tests can be two clients. */
function signedGet(h: Harness, miner: SimMiner | null, path: string, localAddress = '127.0.0.1', forgeKey?: string): Promise<Answer> {
  const headers: Record<string, string> = miner
    ? { ...signFast(miner.pair, 'GET', path, { sha256Hex: sha256Hex(new Uint8Array()) }, h.clock.now) }
    : {};
  if (forgeKey)
    Object.assign(headers, {
      [HEADER_KEY]: forgeKey,
      [HEADER_TIMESTAMP]: String(h.clock.now),
      [HEADER_NONCE]: '0'.repeat(32),
      [HEADER_SIGNATURE]: `0x${'1'.repeat(128)}`,
    });
  return new Promise((resolve, reject) => {
    const req = request(`${h.validator.url}${path}`, { method: 'GET', headers, localAddress, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          retryAfter: res.headers['retry-after'],
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe.each(STORE_KINDS)('a key hoarding the queue on %s', (kind) => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('holds at most three open leases, and an honest miner leasing afterwards gets work', async () => {
    h = await startHarness(kind, { seqLen: SEQ_LEN });
    await h.validator.addDocuments(documents(600));
    const hoarder = h.miner(100);
    // Unlimited, 40 requests locked all 600 documents (~10 tasks). Bound: 3 tasks, 3 × 64 × 64 = 12,288 tokens.
    const hoard = await leaseAll(hoarder, 40);
    expect(hoard.tasks).toHaveLength(BASE_OPEN_LEASES);
    expect(hoard.tokens).toBeLessThanOrEqual(BASE_OPEN_LEASES * MAX_TASK_TOKENS);
    expect(hoard.refusal).toMatchObject({ kind: 'no-work', reason: 'open-leases', retryAfterMs: expect.any(Number) });
    expect(await h.validator.store.openLeases(hoarder.address)).toMatchObject({ count: BASE_OPEN_LEASES });
    const honest = await leaseTask(h.miner(1), { maxTokens: 400, tokensPerS: 20 });
    expect(honest.documents.length).toBeGreaterThan(0);
  });

  it('with an accomplice taking the replicas, still leaves the honest miner work', async () => {
    h = await startHarness(kind, { seqLen: SEQ_LEN, redundancy: 2 });
    await h.validator.addDocuments(documents(300));
    // Unlimited, the hoarder locked all 300 documents and the accomplice every replica slot.
    // Bound: each key 3 tasks (12,288 tokens); 300 - 3 × 64 documents stay free.
    const hoard = await leaseAll(h.miner(100), 20);
    const accomplice = await leaseAll(h.miner(101), 20);
    expect(hoard.tasks).toHaveLength(BASE_OPEN_LEASES);
    expect(accomplice.tasks).toHaveLength(BASE_OPEN_LEASES);
    expect(accomplice.tokens).toBeLessThanOrEqual(BASE_OPEN_LEASES * MAX_TASK_TOKENS);
    const honest = await h.miner(1).lease<LeaseBody>({ maxTokens: 400, tokensPerS: 20 });
    expect(honest.body.kind).toBe('task');
  });

  it('lets a key hold more only as far as its delivered tokens reach, never past the hard cap', async () => {
    h = await startHarness(kind, { seqLen: SEQ_LEN });
    await h.validator.addDocuments(documents(600));
    const fast = h.miner(200);
    const req = { maxTokens: 400, tokensPerS: 1e9 };
    // Delivered ~6 × 400 tokens inside one lease period: the validator's measure of its speed.
    for (let round = 0; round < 2; round++) {
      const { tasks } = await leaseAll(fast, 3, req);
      for (const t of tasks) await deliver(fast, t, 200);
    }
    const held = await leaseAll(fast, 20, req);
    expect(held.tasks.length).toBeGreaterThan(BASE_OPEN_LEASES);
    expect(held.tasks.length).toBeLessThanOrEqual(MAX_OPEN_LEASES);
    // It holds no more tokens than it delivered, plus the one task that crossed the line.
    expect(held.tokens).toBeLessThanOrEqual(6 * 400 + 400);
  });

  it('shrinks the tasks of a key whose leases expire, then cools it down, and forgives it as it delivers', async () => {
    const leaseMs = 60_000;
    const coolDownMs = 300_000;
    h = await startHarness(kind, { seqLen: SEQ_LEN, leaseMs, leaseLimits: { coolDownMs } });
    await h.validator.addDocuments(documents(600));
    const lazy = h.miner(300);
    const req = { tokensPerS: 1e9, maxTokens: 4000 };
    // Each lease it lets expire halves the next: at most 4,000 + 2,000 + 1,000 tokens locked for a
    // lease period each, then none for the cool-down.
    const sizes: number[] = [];
    for (let i = 0; i < 3; i++) {
      sizes.push((await leaseTask(lazy, req)).tokens!);
      h.clock.now += leaseMs + 1;
    }
    expect(sizes[0]).toBeGreaterThan(2000);
    expect(sizes[1]).toBeLessThanOrEqual(2000);
    expect(sizes[2]).toBeLessThanOrEqual(1000);
    // The protocol's answer for "not now" that keeps the client sending results: no-work with a retry time.
    const cooling = await lazy.lease<LeaseBody>(req);
    expect(cooling).toMatchObject({ status: 200, body: { kind: 'no-work', reason: 'cool-down', retryAfterMs: coolDownMs } });
    h.clock.now += coolDownMs - 1000;
    expect((await lazy.lease<LeaseBody>(req)).body).toMatchObject({ kind: 'no-work', reason: 'cool-down', retryAfterMs: 1000 });
    h.clock.now += 1000;
    // Back at an eighth of the size; every delivery forgives one strike until it is at full size again.
    const after: number[] = [];
    for (let i = 0; i < 4; i++) {
      const task = await leaseTask(lazy, req);
      after.push(task.tokens!);
      await deliver(lazy, task, 300);
    }
    expect(after[0]).toBeLessThanOrEqual(500);
    expect(after[1]).toBeLessThanOrEqual(1000);
    expect(after[2]).toBeLessThanOrEqual(2000);
    expect(after[3]).toBeGreaterThan(2000);
  });

  it('records each expired lease as a strike in the store, so it outlives the process', async () => {
    h = await startHarness(kind, { seqLen: SEQ_LEN, leaseMs: 60_000 });
    await h.validator.addDocuments(documents(200));
    const lazy = h.miner(301);
    await leaseTask(lazy, { tokensPerS: 1e9, maxTokens: 4000 });
    h.clock.now += 60_001;
    await leaseTask(lazy, { tokensPerS: 1e9, maxTokens: 4000 });
    expect(await h.validator.store.leaseStandingForUpdate(lazy.address)).toEqual({ strikes: 1, coolDownUntilMs: 0 });
  });
});

describe.each(STORE_KINDS)('request flooding on %s', (kind) => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('answers a key past its rate 429 with Retry-After; other keys, and forged requests naming it, change nothing', async () => {
    h = await startHarness(kind, { seqLen: SEQ_LEN, rateLimits: { perKey: { perS: 2, burst: 10 } } });
    await h.validator.addDocuments(documents(100));
    const flooder = h.miner(400);
    const honest = h.miner(1);
    // Bound: burst + rate × time = 10 requests now, 2 a second after.
    const answers: Answer[] = [];
    for (let i = 0; i < 25; i++) answers.push(await signedGet(h, flooder, API.me));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(10);
    const limited = answers.at(-1)!;
    expect(limited).toMatchObject({ status: 429, retryAfter: '1', body: { error: { code: 'rate-limited' } } });
    expect((await flooder.lease<LeaseBody>({ maxTokens: 400 })).status).toBe(429);
    expect(await leaseTask(honest)).toBeTruthy();
    h.clock.now += 1000;
    expect((await signedGet(h, flooder, API.me)).status).toBe(200);

    // Only verified requests spend a key's bucket: unsigned ones in the honest key's name do not.
    for (let i = 0; i < 30; i++) expect((await signedGet(h, null, API.me, '127.0.0.1', honest.address)).status).toBe(401);
    expect((await signedGet(h, honest, API.me)).status).toBe(200);
  });

  it('never limits a key by the work it brings: leases answered with tasks and stored results are free', async () => {
    h = await startHarness(kind, { seqLen: SEQ_LEN, rateLimits: { perKey: { perS: 2, burst: 10 } } });
    await h.validator.addDocuments(documents(100));
    const busy = h.miner(401);
    // 30 requests in no time, 3 × the burst: each one leased or delivered work.
    for (let i = 0; i < 15; i++) await deliver(busy, await leaseTask(busy, { maxTokens: 200 }), 401);
    expect((await signedGet(h, busy, API.me)).status).toBe(200);
  });

  it('limits an address however many keys it uses, when turned on; other addresses are unaffected', async () => {
    h = await startHarness(kind, { rateLimits: { perAddress: { perS: 1, burst: 20 } } });
    // Bound: 20 requests now and 1 a second after, across every key the address holds.
    const answers: Answer[] = [];
    for (let i = 0; i < 30; i++) answers.push(await signedGet(h, h.miner(500 + i), API.me, '127.0.0.1'));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(20);
    expect(answers.at(-1)).toMatchObject({ status: 429, retryAfter: '1', body: { error: { code: 'rate-limited' } } });
    expect((await signedGet(h, null, API.health, '127.0.0.1')).status).toBe(429);
    expect((await signedGet(h, h.miner(1), API.me, '127.0.0.2')).status).toBe(200);
  });

  it('does not limit addresses by default: many keys on one machine all get answers', async () => {
    h = await startHarness(kind);
    for (let i = 0; i < 120; i++) expect((await signedGet(h, h.miner(600 + i), API.me)).status).toBe(200);
  });
});

describe('client addresses', () => {
  it.each([
    ['192.0.2.7', '192.0.2.7'],
    ['::ffff:192.0.2.7', '192.0.2.7'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    [undefined, 'unknown'],
  ])('limits %s as %s', (remote, expected) => {
    expect(clientAddressOf(remote)).toBe(expected);
  });
});
