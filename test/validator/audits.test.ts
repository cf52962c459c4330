import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { API, LedgerResponse, WeightsResponse, type Task } from '../../src-shared/protocol';
import { decodeResultBundle, decodeSoftLabels } from '../../src-node/soft-labels';
import { silentLogger } from '../../src-node/log';
import { fakeRecomputer } from '../../src-validator/bench/sim/fake-teacher';
import { SimMiner } from '../../src-validator/bench/sim/sim-miner';
import { validatedRecords } from '../../src-validator/export-validated';
import type { Recomputer, ValidatorOptions } from '../../src-validator/index';
import { AUDIT_TEACHER_PAUSE_MS, MAX_TASK_DOCUMENTS } from '../../src-validator/config';
import * as cheat from './cheaters';
import {
  bundleOf,
  documents,
  honestLabels,
  ledgerStatuses,
  longStreak,
  MODEL_HASH,
  startHarness,
  STORE_KINDS,
  tokenizer,
  type Harness,
  type LeaseBody,
} from './harness';

/*
 * Keys that are established (the operator's, or earned honestly) and first seen apart may check
 * each other, so colluding keys can fill both replica slots of a task with the same made-up labels
 * and agree. Only the validator's own teacher can see through that: audits re-compute a random
 * prefix of a random document of settled tasks, picked after the results are in.
 */

beforeAll(async () => {
  await cryptoWaitReady();
});

const EPOCH_MS = 3_600_000;
const START_MS = 1_760_000_000_000 - (1_760_000_000_000 % EPOCH_MS);
const COLLUDER_SEED = 800;
/** The operator vouches for the honest miners only; colluders earn their standing (docs/PROTOCOL.md, "Who checks whom"). */
const HONEST_SEEDS = [1, 2, 3, 4];
/** Small established keys flooding the audit queue. */
const FLOOD_SEEDS = [100, 101, 102, 103, 104, 105, 106, 107];
const FABRICATOR_SEEDS = [120, 121, 122, 123, 124];
const honestSeedKeys = () => HONEST_SEEDS.map((seed) => SimMiner.fromSeed('http://127.0.0.1:1', seed).address);

interface Sent {
  fabricatedTokens: number;
  /** Labels sent per fabricated task and document: to find them in the data set. */
  garbage: Map<string, Map<string, Int32Array>>;
}

/** Leases one task and answers it; returns the task, or null on no-work. */
async function answer(miner: SimMiner, behaviour: (task: Task) => Uint8Array, maxTokens = 250): Promise<Task | null> {
  const res = await miner.lease<LeaseBody>({ maxTokens });
  if (res.body.kind !== 'task') return null;
  const sent = await miner.submit(res.body.task.taskId, behaviour(res.body.task));
  if (sent.status !== 200) throw new Error(`submit answered ${sent.status} ${JSON.stringify(sent.body)}`);
  return res.body.task;
}

/** One round: the colluders lease back to back (so they take each other's replica) and fabricate, the honest miners label. */
async function round(h: Harness, colluders: SimMiner[], honest: SimMiner[], sent: Sent, cheating = true): Promise<void> {
  for (const m of colluders) {
    const task = await answer(m, (t) => {
      if (!cheating) return cheat.honest(COLLUDER_SEED)(t, { lastBundle: null });
      const bundle = cheat.fabricatedFor(t.taskId)(t, { lastBundle: null });
      const records = decodeResultBundle(bundle).map((r) => decodeSoftLabels(r).topkIds);
      sent.garbage.set(t.taskId, new Map(t.documents.map((d, i) => [d.docId, records[i]!])));
      return bundle;
    });
    if (task && cheating) sent.fabricatedTokens += task.tokens ?? 0;
  }
  for (const [i, m] of honest.entries()) await answer(m, (t) => bundleOf(honestLabels(t, 1 + i, { noise: i % 2 ? 0.03 : 0.01 })));
  h.clock.now += 1000;
  await h.validator.idle();
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 5));
}

async function epochCredit(h: Harness, miners: SimMiner[], epoch: number): Promise<number> {
  let sum = 0;
  for (const m of miners) sum += (await h.validator.store.epochTokens([epoch], m.address))[0]?.tokens ?? 0;
  return sum;
}

/** The weights file the publisher wrote for an epoch, by address. */
async function settledWeights(h: Harness, epoch: number): Promise<Map<string, number>> {
  h.clock.now = (epoch + 2) * EPOCH_MS + 1000;
  await h.validator.publishWeights();
  const file = join(h.dataDir, 'weights', `epoch-${epoch}.json`);
  if (!existsSync(file)) return new Map();
  return new Map(WeightsResponse.parse(JSON.parse(readFileSync(file, 'utf8'))).weights.map((w) => [w.address, w.weight]));
}

async function exportedGarbage(h: Harness, garbage: Sent['garbage']): Promise<number> {
  let found = 0;
  for await (const r of validatedRecords(h.validator.store, tokenizer)) {
    const sent = garbage.get(r.taskId)?.get(r.docId);
    if (sent && sent.length === r.topkIds.length && sent.every((id, i) => id === r.topkIds[i])) found++;
  }
  return found;
}

describe.each(STORE_KINDS)('audits against colluding established keys on %s', (kind) => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  /**
   * A validator with the honest seed keys; the colluders then compute one task each honestly, which
   * the teacher re-computes (they are new) and so establishes them: from then on they may check
   * each other, and fabricate.
   */
  async function start(opts: Partial<ValidatorOptions>, colluders: number): Promise<{ epoch: number; colluders: SimMiner[] }> {
    h = await startHarness(kind, { redundancy: 2, epochMs: EPOCH_MS, establishedKeys: honestSeedKeys(), ...opts });
    h.clock.now = START_MS + 60_000;
    await h.validator.addDocuments(documents(600));
    const crowd = Array.from({ length: colluders }, (_, i) => h.miner(COLLUDER_SEED + i));
    await round(h, crowd, [], { fabricatedTokens: 0, garbage: new Map() }, false);
    expect((await h.validator.store.transaction((tx) => tx.establishedAmong(crowd.map((m) => m.address)))).size).toBe(colluders);
    return { epoch: Math.floor(h.clock.now / EPOCH_MS), colluders: crowd };
  }

  it('without audits the attack pays: established colluders agree on the same fabrications and are credited', async () => {
    const { epoch, colluders } = await start(
      { recomputers: [fakeRecomputer(MODEL_HASH, tokenizer)], audits: { share: 0, auditsPerKey: 0 } },
      2,
    );
    const sent: Sent = { fabricatedTokens: 0, garbage: new Map() };
    for (let r = 0; r < 4; r++) await round(h, colluders, [], sent);
    expect(await epochCredit(h, colluders, epoch)).toBeGreaterThan(0);
    expect(h.validator.audits().picked).toBe(0);
  });

  for (const colluderCount of [2, 5]) {
    for (const honestCount of [0, 2]) {
      it(`${colluderCount} colluders, ${honestCount} honest miners: no fabricated token in the settled weights, honest credit whole`, async () => {
        const recomputer = fakeRecomputer(MODEL_HASH, tokenizer);
        const { epoch, colluders } = await start({ recomputers: [recomputer], audits: { share: 0.01 } }, colluderCount);
        const honest = Array.from({ length: honestCount }, (_, i) => h.miner(1 + i));
        const sent: Sent = { fabricatedTokens: 0, garbage: new Map() };
        for (let r = 0; r < 6; r++) await round(h, colluders, honest, sent);
        expect(sent.fabricatedTokens).toBeGreaterThan(0);
        const stats = h.validator.audits();
        expect(stats.failed).toBeGreaterThan(0);
        // Made-up labels fail grossly: penalised on the first audit, no confirmation needed.
        expect(stats.confirmations).toBe(0);
        // The colluders' one honest task each was revoked with the rest: nothing of theirs is credited when the epoch settles.
        expect(await epochCredit(h, colluders, epoch)).toBe(0);
        const weights = await settledWeights(h, epoch);
        for (const m of colluders) expect(weights.get(m.address) ?? 0).toBe(0);
        expect(await exportedGarbage(h, sent.garbage)).toBe(0);
        for (const m of honest) {
          expect(weights.get(m.address) ?? 0).toBeGreaterThan(0);
          expect(await ledgerStatuses(m)).not.toContain('rejected');
        }
      });
    }
  }

  it('streak then collude with the default audit share and per-key floor: caught within the window, nothing of theirs paid', async () => {
    const { epoch, colluders } = await start({ recomputers: [fakeRecomputer(MODEL_HASH, tokenizer)] }, 2);
    const honest = [h.miner(1), h.miner(2)];
    const sent: Sent = { fabricatedTokens: 0, garbage: new Map() };
    // Ten honest tasks each: the floor's share of each further task falls to 3 in 11, 12, ...
    for (let r = 0; r < 10; r++) await round(h, colluders, honest, sent, false);
    const caught = async () => (await Promise.all(colluders.map(ledgerStatuses))).every((seen) => seen.includes('rejected'));
    expect(await caught()).toBe(false);
    let rounds = 0;
    while (rounds < 40 && !(await caught())) {
      await round(h, colluders, honest, sent);
      rounds++;
    }
    console.log(`streak of 10, then caught after ${rounds} rounds of collusion; audits ${JSON.stringify(h.validator.audits())}`);
    expect(await caught()).toBe(true);
    expect(sent.fabricatedTokens).toBeGreaterThan(0);
    expect(await epochCredit(h, colluders, epoch)).toBe(0);
    expect(await exportedGarbage(h, sent.garbage)).toBe(0);
    const weights = await settledWeights(h, epoch);
    for (const m of colluders) expect(weights.get(m.address) ?? 0).toBe(0);
    for (const m of honest) {
      expect(weights.get(m.address) ?? 0).toBeGreaterThan(0);
      expect(await ledgerStatuses(m)).not.toContain('rejected');
    }
  });

  it('streak then cheat across an epoch boundary: agreed (checked) fabrications credited before the close are revoked when an audit catches them after it', async () => {
    // No per-key floor: audits by share alone, about one settled task in 25, so the pair's first fabrications go unaudited.
    const { epoch, colluders } = await start(
      { recomputers: [fakeRecomputer(MODEL_HASH, tokenizer)], audits: { share: 0.004, auditsPerKey: 0 } },
      2,
    );
    const honest = [h.miner(1), h.miner(2)];
    const sent: Sent = { fabricatedTokens: 0, garbage: new Map() };
    for (let r = 0; r < 3; r++) await round(h, colluders, honest, sent, false);
    // Caught: each of the pair has failed a check (an audit of their agreed work, or a recheck beside an honest miner).
    const caught = async () => (await Promise.all(colluders.map(ledgerStatuses))).every((seen) => seen.includes('rejected'));
    const creditedGarbage = async () =>
      LedgerResponse.parse((await colluders[0]!.get(`${API.ledger}?limit=500`)).body).entries.filter(
        (e) => e.status === 'validated' && sent.garbage.has(e.taskId),
      ).length;
    for (let r = 0; r < 20 && (await creditedGarbage()) < 2; r++) await round(h, colluders, [], sent);
    expect(await caught()).toBe(false);
    expect(await creditedGarbage()).toBeGreaterThanOrEqual(2);
    expect(await exportedGarbage(h, sent.garbage)).toBeGreaterThan(0);
    const honestCredit = await epochCredit(h, honest, epoch);

    h.clock.now = (epoch + 1) * EPOCH_MS + 1000;
    await h.validator.publishWeights();
    for (let r = 0; r < 300 && !(await caught()); r++) await round(h, colluders, [], sent);
    expect(await caught()).toBe(true);
    // Everything the pair was credited in the closed epoch, honest streak and agreed fabrications alike, is gone.
    expect(await epochCredit(h, colluders, epoch)).toBe(0);
    expect(await exportedGarbage(h, sent.garbage)).toBe(0);
    const weights = await settledWeights(h, epoch);
    for (const m of colluders) expect(weights.has(m.address)).toBe(false);
    expect(await epochCredit(h, honest, epoch)).toBe(honestCredit);
    for (const m of honest) expect(weights.get(m.address) ?? 0).toBeGreaterThan(0);
  });
});

describe.each(STORE_KINDS)('the audit budget on %s', (kind) => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('re-computes about the configured share of credited tokens, and honest miners with fp16 noise pass every audit', async () => {
    const share = 0.02;
    h = await startHarness(kind, {
      redundancy: 2,
      recomputers: [fakeRecomputer(MODEL_HASH, tokenizer)],
      audits: { share, auditsPerKey: 0 },
      establishedKeys: honestSeedKeys(),
    });
    await h.validator.addDocuments(documents(800));
    const honest = [1, 2, 3, 4].map((s) => h.miner(s));
    const sent: Sent = { fabricatedTokens: 0, garbage: new Map() };
    for (let r = 0; r < 60; r++) await round(h, [], honest, sent);
    const stats = h.validator.audits();
    expect(stats.passed).toBeGreaterThanOrEqual(10);
    expect(stats.failed).toBe(0);
    expect(stats.skipped).toBe(0);
    const ratio = stats.recomputedTokens / stats.creditedTokens;
    console.log(`audit budget: ${JSON.stringify(stats)}, re-computed / credited ${ratio.toFixed(4)} (share ${share})`);
    expect(ratio).toBeGreaterThan(share * 0.6);
    expect(ratio).toBeLessThan(share * 1.4);
    for (const m of honest) expect(await ledgerStatuses(m)).not.toContain('rejected');
  });

  it('a slow teacher never holds up uploads: picked audits beyond the queue are skipped, counted and logged once', async () => {
    let release!: () => void;
    const gate = new Promise<void>((done) => (release = done));
    const inner = fakeRecomputer(MODEL_HASH, tokenizer);
    const slow: Recomputer = { modelHash: MODEL_HASH, label: async (task) => (await gate, inner.label(task)) };
    const warnings: string[] = [];
    h = await startHarness(kind, {
      redundancy: 1,
      recomputers: [slow],
      audits: { share: 1, auditsPerKey: 0, maxQueued: 2 },
      log: { ...silentLogger, warn: (m: string) => warnings.push(m), child: () => silentLogger },
    });
    await h.validator.addDocuments(documents(120));
    // Unreplicated tasks, settled on arrival, every one picked (share 1).
    const miner = h.miner(1);
    await longStreak(h, miner);
    let answered = 0;
    for (let i = 0; i < 12; i++) if (await answer(miner, (t) => bundleOf(honestLabels(t, 1)))) answered++;
    // Every upload was answered while the teacher was stuck on the first audit.
    expect(answered).toBe(12);
    const settled = (await ledgerStatuses(miner)).filter((s) => s === 'validated').length;
    expect(settled).toBeGreaterThan(6);
    await until(() => h.validator.audits().offered >= settled);
    const stuck = h.validator.audits();
    expect(stuck.skipped).toBeGreaterThan(0);
    expect(stuck.picked - stuck.skipped).toBeLessThanOrEqual(3);
    expect(warnings.filter((w) => w.includes('skipped')).length).toBe(1);
    release();
    await h.validator.idle();
    const done = h.validator.audits();
    expect(done.passed).toBe(done.picked - done.skipped);
  });

  it('a flood of small keys cannot crowd a big fabricated task out of a full audit queue', async () => {
    // The attack: many established keys settle one small task each, which their per-key floor
    // audits for certain, while the teacher is busy; the queue fills with them, and a big
    // fabricated task, picked by its share of credited tokens, would find no room and go unaudited.
    let stuck = false;
    let release!: () => void;
    const gate = new Promise<void>((done) => (release = done));
    const inner = fakeRecomputer(MODEL_HASH, tokenizer);
    const slow: Recomputer = { modelHash: MODEL_HASH, label: async (task) => (stuck && (await gate), inner.label(task)) };
    const seeds = [...FLOOD_SEEDS, ...FABRICATOR_SEEDS];
    h = await startHarness(kind, {
      // Unreplicated, so every task settles on arrival: the queue is what is under test, not pairing.
      redundancy: 1,
      recomputers: [slow],
      audits: { share: 0.02, auditsPerKey: 3, maxQueued: 3 },
      establishedKeys: seeds.map((seed) => SimMiner.fromSeed('http://127.0.0.1:1', seed).address),
    });
    onTestFinished(() => release());
    await h.validator.addDocuments(documents(400));
    stuck = true;
    // A task spot-checked (about 1 in 20, whatever the streak) waits for the teacher instead of
    // settling; the attack counts only the tasks that settled on arrival.
    const settledOnArrival = async (m: SimMiner) => (await ledgerStatuses(m)).includes('validated');
    const flood = FLOOD_SEEDS.map((seed) => h.miner(seed));
    let flooded = 0;
    for (const m of flood) {
      await longStreak(h, m);
      // One document: its share of credited tokens alone would audit it about once in fifty; the floor, always.
      await answer(m, (t) => bundleOf(honestLabels(t, 1)), 60);
      if (await settledOnArrival(m)) flooded++;
    }
    await until(() => h.validator.audits().offered === flooded);
    expect(h.validator.audits().skipped).toBeGreaterThan(0);

    // A full-size task of made-up labels: its credited tokens alone make an audit certain.
    const garbage: Sent['garbage'] = new Map();
    let fabricator: SimMiner | null = null;
    for (const seed of FABRICATOR_SEEDS) {
      const m = h.miner(seed);
      await longStreak(h, m);
      const task = await answer(
        m,
        (t) => {
          const bundle = cheat.fabricatedFor(t.taskId)(t, { lastBundle: null });
          const records = decodeResultBundle(bundle).map((r) => decodeSoftLabels(r).topkIds);
          garbage.set(t.taskId, new Map(t.documents.map((d, i) => [d.docId, records[i]!])));
          return bundle;
        },
        6000,
      );
      expect(task!.documents.length).toBe(MAX_TASK_DOCUMENTS);
      if (await settledOnArrival(m)) {
        fabricator = m;
        break;
      }
    }
    expect(fabricator).not.toBeNull();
    await until(() => h.validator.audits().offered === flooded + 1);

    release();
    await h.validator.idle();
    const stats = h.validator.audits();
    console.log(`flooded audit queue: ${JSON.stringify(stats)}`);
    expect(stats.failed).toBe(1);
    expect(stats.displaced).toBe(1);
    expect(await ledgerStatuses(fabricator!)).toEqual(['rejected']);
    expect(await exportedGarbage(h, garbage)).toBe(0);
    // The flood's audits that ran passed: honest small keys lose nothing but an audit.
    for (const m of flood) expect(await ledgerStatuses(m)).not.toContain('rejected');
  });

  it('an unlucky near miss is confirmed on another document before any penalty, and its key is audited on its next task', async () => {
    let unlucky = false;
    const teacher = fakeRecomputer(MODEL_HASH, tokenizer);
    // Another GPU's labels far noisier than usual, once: a near miss (within twice the bounds), as honest jitter can make.
    const noisy = fakeRecomputer(MODEL_HASH, tokenizer, { noise: 0.09, noiseSeed: 5 });
    // An audit asks for a prefix (at most the document: below the task's 64 positions); a spot check for the task's length.
    const recomputer: Recomputer = {
      modelHash: MODEL_HASH,
      label: (t) => (unlucky && t.seqLen < 64 ? ((unlucky = false), noisy) : teacher).label(t),
    };
    h = await startHarness(kind, { redundancy: 2, recomputers: [recomputer], audits: { share: 1e-9, auditsPerKey: 1 } });
    await h.validator.addDocuments(documents(1000));
    const pair = [h.miner(1), h.miner(2)];
    const settleOne = () => round(h, [], pair, { fabricatedTokens: 0, garbage: new Map() });
    for (let i = 0; i < 20; i++) await settleOne();
    unlucky = true;
    const before = h.validator.audits().picked;
    for (let i = 0; i < 150 && h.validator.audits().picked === before; i++) await settleOne();
    expect(h.validator.audits()).toMatchObject({ confirmations: 1, unconfirmed: 1, failed: 0 });
    for (const m of pair) expect(await ledgerStatuses(m)).not.toContain('rejected');
    // Its next task is audited whatever the odds (about 1 in 20 here).
    const picked = h.validator.audits().picked;
    await settleOne();
    expect(h.validator.audits().picked).toBeGreaterThan(picked);
    expect(h.validator.audits()).toMatchObject({ failed: 0, unconfirmed: 1 });
  });

  it('a near miss on every document (a cheaper kernel) is confirmed and penalised', async () => {
    h = await startHarness(kind, {
      redundancy: 1,
      recomputers: [fakeRecomputer(MODEL_HASH, tokenizer)],
      audits: { share: 1, auditsPerKey: 0 },
    });
    await h.validator.addDocuments(documents(60));
    const miner = h.miner(1);
    await longStreak(h, miner);
    await answer(miner, (t) => bundleOf(honestLabels(t, 1, { noise: 0.08 })));
    await h.validator.idle();
    expect(h.validator.audits()).toMatchObject({ confirmations: 1, unconfirmed: 0, failed: 1 });
    expect(await ledgerStatuses(miner)).toEqual(['rejected']);
  });

  it('a failing teacher pauses audits with one log line, the validator keeps validating, and audits resume after the pause', async () => {
    const errors: string[] = [];
    const infos: string[] = [];
    let broken = true;
    const teacher = fakeRecomputer(MODEL_HASH, tokenizer);
    const flaky: Recomputer = {
      label: (task) => (broken ? Promise.reject(new Error('CUDA error: out of memory')) : teacher.label(task)),
    };
    h = await startHarness(kind, {
      redundancy: 1,
      recomputers: [flaky],
      audits: { share: 1, auditsPerKey: 0 },
      log: { ...silentLogger, error: (m: string) => errors.push(m), info: (m: string) => infos.push(m), child: () => silentLogger },
    });
    await h.validator.addDocuments(documents(60));
    const miner = h.miner(1);
    await longStreak(h, miner);
    for (let i = 0; i < 6; i++) {
      await answer(miner, (t) => bundleOf(honestLabels(t, 1)));
      await h.validator.idle();
    }
    expect(errors.filter((e) => e.startsWith('audits off')).length).toBe(1);
    expect(errors.find((e) => e.startsWith('audits off'))).toMatch(/out of memory.*no audits of its variant for 10 minutes/);
    expect(h.validator.audits().passed).toBe(0);
    expect(h.validator.audits().skipped).toBeGreaterThan(1);
    expect(await ledgerStatuses(miner)).toEqual(expect.arrayContaining(['validated']));
    expect(await ledgerStatuses(miner)).not.toContain('rejected');

    // The fault passes (a driver reset, say); once the pause is over, the next pick tries the teacher again.
    broken = false;
    h.clock.now += AUDIT_TEACHER_PAUSE_MS - 1;
    await answer(miner, (t) => bundleOf(honestLabels(t, 1)));
    await h.validator.idle();
    expect(h.validator.audits().passed).toBe(0);
    h.clock.now += 1;
    await answer(miner, (t) => bundleOf(honestLabels(t, 1)));
    await h.validator.idle();
    expect(infos.filter((m) => m.startsWith('audits on again')).length).toBe(1);
    expect(h.validator.audits().passed).toBe(1);
    expect(errors.filter((e) => e.startsWith('audits off')).length).toBe(1);
  });
});
