import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { API, MeResponse } from '../../src-shared/protocol';
import { SimMiner } from '../../src-validator/bench/sim/sim-miner';
import { fakeRecomputer } from '../../src-validator/bench/sim/fake-teacher';
import type { ValidatorOptions } from '../../src-validator/index';
import * as cheat from './cheaters';
import { documents, ledgerStatuses, MODEL_HASH, startHarness, STORE_KINDS, tokenizer, type Harness, type LeaseBody } from './harness';

/*
 * The attack an outside review found: keys cost nothing, so a handful of fresh keys lease back to
 * back, take every replica slot of the same tasks, and send identical made-up labels with the
 * right shapes and checksums. With replicas handed to the next requester every fabricated token
 * was credited. These suites prove that a crowd of new keys cannot vouch for each other: their
 * work waits (pending, unpaid) for an established key or the validator's re-computation, while
 * honest miners beside them are still checked and paid.
 */

beforeAll(async () => {
  await cryptoWaitReady();
});

const MINUTE_MS = 60_000;
/** Longer than the first-seen window, so keys registered this far apart may check each other. */
const APART_MS = 11 * MINUTE_MS;

interface Crowd {
  colluders: SimMiner[];
  honest: SimMiner[];
  /** Tokens of the fabricated results the colluders sent. */
  fabricatedTokens: number;
}

async function leaseAndSubmit(h: Harness, miner: SimMiner, labels: (taskId: string) => cheat.Behaviour): Promise<number> {
  const res = await miner.lease<LeaseBody>({ maxTokens: 250 });
  if (res.body.kind !== 'task') return 0;
  const task = res.body.task;
  const sent = await miner.submit(task.taskId, labels(task.taskId)(task, { lastBundle: null }));
  if (sent.status !== 200) throw new Error(`submit answered ${sent.status} ${JSON.stringify(sent.body)}`);
  return task.tokens ?? 0;
}

/**
 * Honest miners first seen APART_MS apart (each computes one task as it arrives), then the
 * colluders, all in the same second, then rounds in which the colluders lease back to back.
 */
async function runCrowd(h: Harness, colluders: number, honest: number, rounds: number): Promise<Crowd> {
  const crowd: Crowd = {
    colluders: Array.from({ length: colluders }, (_, i) => h.miner(100 + i)),
    honest: Array.from({ length: honest }, (_, i) => h.miner(1 + i)),
    fabricatedTokens: 0,
  };
  const honestLabels = (i: number) => () => cheat.honest(1 + i);
  for (const [i, m] of crowd.honest.entries()) {
    h.clock.now += APART_MS;
    await leaseAndSubmit(h, m, honestLabels(i));
  }
  h.clock.now += APART_MS;
  for (let round = 0; round < rounds; round++) {
    for (const m of crowd.colluders) crowd.fabricatedTokens += await leaseAndSubmit(h, m, cheat.fabricatedFor);
    for (const [i, m] of crowd.honest.entries()) await leaseAndSubmit(h, m, honestLabels(i));
    h.clock.now += 1000;
    await h.validator.idle();
  }
  return crowd;
}

async function validatedTokens(miners: SimMiner[]): Promise<number> {
  let sum = 0;
  for (const m of miners) sum += MeResponse.parse((await m.get(API.me)).body).validatedTokens;
  return sum;
}

/** A sim miner's key address, before the harness exists (it depends only on the seed). */
const addressOfSeed = (seed: number): string => SimMiner.fromSeed('http://127.0.0.1:1', seed).address;

describe.each(STORE_KINDS)('colluding fresh keys on %s', (kind) => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  async function start(opts: Partial<ValidatorOptions>): Promise<void> {
    h = await startHarness(kind, { redundancy: 2, replicaRules: { firstSeenApartMs: 10 * MINUTE_MS }, establishedKeys: [], ...opts });
    await h.validator.addDocuments(documents(200));
  }

  it.each([2, 5])('%i colluders alone: no fabricated token credited, their work pending', async (colluders) => {
    await start({});
    const crowd = await runCrowd(h, colluders, 0, 6);
    expect(crowd.fabricatedTokens).toBeGreaterThan(0);
    expect(await validatedTokens(crowd.colluders)).toBe(0);
    for (const m of crowd.colluders) {
      const seen = await ledgerStatuses(m);
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.every((s) => s === 'submitted')).toBe(true);
    }
  });

  it.each([2, 5])('%i colluders beside 2 honest seed keys: no fabricated token credited, honest work paid', async (colluders) => {
    await start({ establishedKeys: [1, 2].map((seed) => addressOfSeed(seed)) });
    const crowd = await runCrowd(h, colluders, 2, 6);
    expect(crowd.fabricatedTokens).toBeGreaterThan(0);
    expect(await validatedTokens(crowd.colluders)).toBe(0);
    for (const m of crowd.honest) {
      expect(await validatedTokens([m])).toBeGreaterThan(0);
      expect(await ledgerStatuses(m)).not.toContain('rejected');
    }
  });

  it.each([2, 5])(
    '%i colluders beside 2 fresh honest keys and a recomputer: honest keys established, fakes rejected',
    async (colluders) => {
      const recomputer = fakeRecomputer(MODEL_HASH, tokenizer);
      await start({ recomputers: [recomputer] });
      const crowd = await runCrowd(h, colluders, 2, 6);
      expect(crowd.fabricatedTokens).toBeGreaterThan(0);
      expect(recomputer.calls).toBeGreaterThan(0);
      expect(await validatedTokens(crowd.colluders)).toBe(0);
      for (const m of crowd.honest) {
        expect(await validatedTokens([m])).toBeGreaterThan(0);
        expect(await ledgerStatuses(m)).not.toContain('rejected');
      }
    },
  );

  it('established keys first seen together never check each other; one first seen apart does', async () => {
    await start({ establishedKeys: [1, 2, 3].map(addressOfSeed) });
    const [a, b, c] = [1, 2, 3].map((seed) => h.miner(seed));
    for (const [i, m] of [a, b].entries()) await leaseAndSubmit(h, m!, () => cheat.honest(1 + i));
    expect(await validatedTokens([a!, b!])).toBe(0);
    h.clock.now += APART_MS;
    await leaseAndSubmit(h, c!, () => cheat.honest(3));
    await h.validator.idle();
    expect(await validatedTokens([c!])).toBeGreaterThan(0);
    expect(await validatedTokens([a!, b!])).toBeGreaterThan(0);
  });

  it('keys leasing from one network never compute each other’s replica when the prefix check is on', async () => {
    const seeds = [1, 2, 3];
    await start({
      establishedKeys: seeds.map(addressOfSeed),
      replicaRules: { firstSeenApartMs: 0, networkPrefix: { ipv4Bits: 24, ipv6Bits: 48 } },
    });
    const miners = seeds.map((s) => h.miner(s));
    for (let round = 0; round < 4; round++) for (const [i, m] of miners.entries()) await leaseAndSubmit(h, m, () => cheat.honest(1 + i));
    // Every request comes from 127.0.0.1: no task got a second replica, so nothing was validated.
    expect(await validatedTokens(miners)).toBe(0);
  });
});
