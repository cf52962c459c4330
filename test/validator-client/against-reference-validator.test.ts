import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { u8aToHex } from '@polkadot/util';
import { cryptoWaitReady, sr25519PairFromSeed, sr25519Sign } from '@polkadot/util-crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { addressOf } from '../../src-shared/request-signing';
import { DEFAULT_SETTINGS } from '../../src-shared/state';
import { createHandlers, type HandlerDeps } from '../../src-main/ipc/handlers';
import { silentLogger } from '../../src-node/log';
import { initialState } from '../../src-main/state/initial-state';
import { LogRing } from '../../src-main/state/log-ring';
import { StateStore } from '../../src-main/state/state-store';
import type { MinerTask, SubmissionOutcome } from '../../src-main/miner/ports';
import { ValidatorSession } from '../../src-main/validator-client';
import { signerFromPair } from '../../src-main/wallet';
import { bundleOf, documents, honestLabels, MODEL_HASH, startHarness, type Harness } from '../validator/harness';

// The client against the project's own validator (src-validator), in process on loopback: the
// same wire protocol from both ends, so a drift between them fails here.
let harness: Harness | null = null;
const dirs: string[] = [];
const sessions: ValidatorSession[] = [];

beforeAll(async () => {
  await cryptoWaitReady();
});
afterEach(async () => {
  for (const s of sessions.splice(0)) await s.dispose();
  await harness?.close();
  harness = null;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function miner(h: Harness, seed: number, dataDir = mkdtempSync(join(tmpdir(), 'nya-vc-e2e-'))) {
  dirs.push(dataDir);
  const session = new ValidatorSession({
    baseUrl: h.validator.url,
    signer: signerFromPair(sr25519PairFromSeed(new Uint8Array(32).fill(seed))),
    dataDir,
    log: silentLogger,
    clientName: 'nya-miner/test',
    displayName: `rig ${seed}`,
    modelHash: () => MODEL_HASH,
    now: () => h.clock.now,
    backoff: { baseMs: 20, capMs: 100, floorMs: 5 },
  });
  sessions.push(session);
  const outcomes: SubmissionOutcome[] = [];
  session.onOutcome((o) => outcomes.push(o));
  return { session, outcomes, dataDir };
}

/** These keys seeded as established, so they check each other's replicas (docs/PROTOCOL.md, "Who checks whom"). */
const established = (...seeds: number[]) => ({
  establishedKeys: seeds.map((seed) => addressOf(sr25519PairFromSeed(new Uint8Array(32).fill(seed)).publicKey)),
});

async function until(condition: () => boolean, what: string): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > 10_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function leased(session: ValidatorSession): Promise<MinerTask> {
  const outcome = await session.lease({ maxTokens: 400, tokensPerS: 100, gpuClass: 'cpu' });
  if (outcome.kind !== 'task') throw new Error(`expected a task, got ${JSON.stringify(outcome)}`);
  return outcome.task;
}

const labelled = (task: MinerTask, seed: number) => bundleOf(honestLabels({ ...task }, seed));

describe('ValidatorSession against the reference validator', () => {
  it('leases, submits and sees two honest results validated and credited', async () => {
    const h = (harness = await startHarness('sqlite', established(1, 2)));
    await h.validator.addDocuments(documents(20));
    const a = miner(h, 1);
    const b = miner(h, 2);
    await a.session.start();
    await b.session.start();
    const task = await leased(a.session);
    const same = await leased(b.session);
    expect(same.taskId).toBe(task.taskId);
    await a.session.submit({ taskId: task.taskId, bundle: labelled(task, 1), tokens: 1 });
    await b.session.submit({ taskId: same.taskId, bundle: labelled(same, 2), tokens: 1 });
    await until(() => a.outcomes.length + b.outcomes.length === 2, 'both answers');
    const statuses = [...a.outcomes, ...b.outcomes].map((o) => o.status).sort();
    expect(statuses).toEqual(['accepted', 'validated']);

    const stats = await a.session.stats();
    expect(stats.validatedTokens).toBeGreaterThan(0);
    expect(stats.epochShare).toBeCloseTo(0.5);
    const ledger = await a.session.ledger();
    expect(ledger.entries[0]).toMatchObject({ taskId: task.taskId, status: 'validated' });
    expect((await a.session.history()).length).toBe(1);
    const board = await a.session.leaderboard({ page: 1, pageSize: 10, gpuClass: 'cpu' });
    expect(board.rows.map((r) => r.name).sort()).toEqual(['rig 1', 'rig 2']);
    expect((await a.session.health()).modelHash).toBe(MODEL_HASH);
  });

  it("pins the user's leaderboard row from another page with one request to the validator", async () => {
    const h = (harness = await startHarness('sqlite', established(1, 2, 3)));
    await h.validator.addDocuments(documents(20));
    const [a, b, c] = [miner(h, 1), miner(h, 2), miner(h, 3)];
    // a and b share one task, a and c another: a ranks first, b and c after it.
    for (const other of [b, c]) {
      const task = await leased(a.session);
      expect((await leased(other.session)).taskId).toBe(task.taskId);
      await a.session.submit({ taskId: task.taskId, bundle: labelled(task, 1), tokens: 1 });
      await other.session.submit({ taskId: task.taskId, bundle: labelled(task, other === b ? 2 : 3), tokens: 1 });
    }
    await until(() => a.outcomes.length + b.outcomes.length + c.outcomes.length === 4, 'four answers');
    const full = await a.session.leaderboard({ page: 1, pageSize: 10 });
    expect(full.rows).toHaveLength(3);
    const last = full.rows[2]!;

    const requests: unknown[] = [];
    const state = new StateStore(initialState(DEFAULT_SETTINGS));
    const validatorPart = state.writer('test', 'validator');
    validatorPart.update((s) => ({ validator: { ...s.validator, signingAddress: last.address } }));
    const handlers = (validator: HandlerDeps['validator']) =>
      createHandlers({ state, logs: new LogRing(), validator } as unknown as HandlerDeps);
    const live = handlers(() => ({
      leaderboard: (q) => (requests.push(q), a.session.leaderboard(q)),
      ledger: (before) => a.session.ledger(before),
    }));
    const shown = await live['validator:leaderboard']({ page: 1, pageSize: 1 });
    expect(shown.board.rows).toEqual([full.rows[0]]);
    expect(shown.board).not.toHaveProperty('me');
    expect(shown.me).toEqual(last);
    expect(requests).toEqual([{ page: 1, pageSize: 1, address: last.address }]);

    // A validator that predates `me` answers without it: the row is found on the page shown only.
    const { me: _, ...oldAnswer } = await a.session.leaderboard({ page: 1, pageSize: 10 });
    const old = handlers(() => ({ leaderboard: async () => oldAnswer, ledger: (before) => a.session.ledger(before) }));
    expect((await old['validator:leaderboard']({ page: 1, pageSize: 10 })).me).toEqual(last);
    validatorPart.update((s) => ({
      validator: { ...s.validator, signingAddress: addressOf(sr25519PairFromSeed(new Uint8Array(32).fill(9)).publicKey) },
    }));
    expect((await old['validator:leaderboard']({ page: 1, pageSize: 10 })).me).toBeNull();
    state.dispose();
  });

  it('re-sends a result queued by a session that died before sending it', async () => {
    const h = (harness = await startHarness('sqlite'));
    await h.validator.addDocuments(documents(20));
    const first = miner(h, 3);
    const task = await leased(first.session);
    // Queued, then the process dies at once: an upload that had begun is cut off unanswered.
    await first.session.submit({ taskId: task.taskId, bundle: labelled(task, 3), tokens: 1 });
    await first.session.dispose();
    expect(readdirSync(join(first.dataDir, 'outbox'))).toHaveLength(2);

    const second = miner(h, 3, first.dataDir);
    await second.session.start();
    await until(() => second.outcomes.length === 1, 'the re-sent result');
    expect(second.outcomes[0]).toMatchObject({ taskId: task.taskId, status: 'accepted' });
    expect(readdirSync(join(first.dataDir, 'outbox')).filter((n) => n !== 'corrupt')).toEqual([]);
    expect((await second.session.ledger()).entries.map((e) => e.taskId)).toEqual([task.taskId]);
  });

  it('waits out a 429 for as long as Retry-After says, results included, then carries on', async () => {
    const h = (harness = await startHarness('sqlite', { rateLimits: { perKey: { perS: 1, burst: 3 } } }));
    await h.validator.addDocuments(documents(20));
    const a = miner(h, 7);
    await a.session.start();
    const task = await leased(a.session);
    for (let i = 0; i < 3; i++) await a.session.me();
    const limited = await a.session.lease({ maxTokens: 400, tokensPerS: 100, gpuClass: 'cpu' });
    expect(limited).toMatchObject({
      kind: 'offline',
      retryAtMs: h.clock.now + 1000,
      error: expect.stringMatching(/HTTP 429, rate-limited/),
    });
    // No storm: the queued result waits for the same time instead of being refused again at once.
    await a.session.submit({ taskId: task.taskId, bundle: labelled(task, 7), tokens: 1 });
    await new Promise((r) => setTimeout(r, 300));
    expect(a.outcomes).toEqual([]);
    h.clock.now += 1000;
    await until(() => a.outcomes.length === 1, 'the result sent after the wait');
    expect(a.outcomes[0]!.status).toBe('accepted');
  });

  it('links a payout address with a signature of the payout key over the challenge', async () => {
    const h = (harness = await startHarness('sqlite'));
    const { session } = miner(h, 4);
    const payout = sr25519PairFromSeed(new Uint8Array(32).fill(99));
    const challenge = await session.payoutChallenge();
    const signature = u8aToHex(sr25519Sign(new TextEncoder().encode(challenge.message), payout));
    expect(await session.linkPayout({ payoutAddress: addressOf(payout.publicKey), challengeId: challenge.challengeId, signature })).toEqual(
      { linked: true },
    );
    expect((await session.me()).payoutAddress).toBe(addressOf(payout.publicKey));
    const again = await session.payoutChallenge();
    await expect(
      session.linkPayout({ payoutAddress: addressOf(payout.publicKey), challengeId: again.challengeId, signature }),
    ).rejects.toThrow(/bad-payout-proof/);
  });
});
