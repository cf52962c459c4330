import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { API, LedgerResponse, MeResponse, type LedgerEntry } from '../../src-shared/protocol';
import type { SimMiner } from '../../src-validator/bench/sim/sim-miner';
import { fakeRecomputer } from '../../src-validator/bench/sim/fake-teacher';
import * as cheat from './cheaters';
import { documents, MODEL_HASH, startHarness, SETUPS, tokenizer, type Harness, type LeaseBody } from './harness';

beforeAll(async () => {
  await cryptoWaitReady();
});

type Plan = cheat.Behaviour | 'honest' | null;

interface Actor {
  miner: SimMiner;
  honest: cheat.Behaviour;
  /** What to send for the n-th task this actor computes (0-based); null = stop working. */
  plan(n: number, taskQuorum: number): Plan;
  done: number;
  memory: { lastBundle: Uint8Array | null };
  /** taskId → whether the actor cheated on it. */
  cheated: Map<string, boolean>;
}

function actor(h: Harness, seed: number, plan: Actor['plan'] = () => 'honest'): Actor {
  return { miner: h.miner(seed), honest: cheat.honest(seed), plan, done: 0, memory: { lastBundle: null }, cheated: new Map() };
}

/** Rounds of lease → compute → submit for every actor, the way real miners interleave. */
async function runRounds(h: Harness, actors: Actor[], rounds: number, until?: () => Promise<boolean>): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    for (const a of actors) {
      const res = await a.miner.lease<LeaseBody>({ maxTokens: 250 });
      if (res.body.kind !== 'task') continue;
      const task = res.body.task;
      const quorum = (await h.validator.store.taskForUpdate(task.taskId))!.quorum;
      const plan = a.plan(a.done, quorum);
      if (!plan) continue;
      const bundle = (plan === 'honest' ? a.honest : plan)(task, a.memory);
      a.cheated.set(task.taskId, plan !== 'honest');
      const sent = await a.miner.submit(task.taskId, bundle);
      if (sent.status !== 200) throw new Error(`submit answered ${sent.status} ${JSON.stringify(sent.body)}`);
      a.memory.lastBundle = bundle;
      a.done++;
    }
    h.clock.now += 1000;
    await h.validator.idle();
    if (until && (await until())) return;
  }
}

async function ledgerOf(miner: SimMiner): Promise<LedgerEntry[]> {
  return LedgerResponse.parse((await miner.get(`${API.ledger}?limit=200`)).body).entries;
}

async function meOf(miner: SimMiner): Promise<MeResponse> {
  return MeResponse.parse((await miner.get(API.me)).body);
}

const CHEATS: [string, (seed: number) => cheat.Behaviour][] = [
  ['random outputs', cheat.randomOutputs],
  ['another result re-sent', () => cheat.resend],
  ['shuffled positions', cheat.shuffledPositions],
  ['shifted positions', cheat.shiftedPositions],
  ['truncated work', cheat.truncatedWork],
  ['a smaller, different model', cheat.smallerModel],
];

describe.each(SETUPS)('cheating miners on $name', ({ kind, opts: setup }) => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it.each(CHEATS)('catches %s: no credit for that work, streak lost, honest miners paid', async (_name, make) => {
    h = await startHarness(kind, { ...setup, redundancy: 2 });
    await h.validator.addDocuments(documents(120));
    const honestA = actor(h, 1);
    const honestB = actor(h, 2);
    // The cheater works honestly twice (building a streak), cheats once, then stops.
    const cheater = actor(h, 3, (n) => (n < 2 ? 'honest' : n === 2 ? make(33) : null));
    const cheatSettled = async () => {
      const entries = await ledgerOf(cheater.miner);
      const cheats = entries.filter((e) => cheater.cheated.get(e.taskId));
      return cheats.length === 1 && cheats[0]!.status !== 'submitted' && entries.every((e) => e.status !== 'submitted');
    };
    await runRounds(h, [cheater, honestA, honestB], 12, cheatSettled);
    const entries = await ledgerOf(cheater.miner);
    const cheats = entries.filter((e) => cheater.cheated.get(e.taskId));
    expect(cheats).toHaveLength(1);
    expect(cheats[0]).toMatchObject({ status: 'rejected', creditedNano: '0' });
    expect(cheats[0]!.reason).toBeTruthy();
    const me = await meOf(cheater.miner);
    expect(me.streak).toBe(0);
    const honestCredit = entries
      .filter((e) => !cheater.cheated.get(e.taskId) && e.status === 'validated')
      .reduce((s, e) => s + e.tokens, 0);
    expect(me.validatedTokens).toBe(honestCredit);
    for (const a of [honestA, honestB]) {
      const ledger = await ledgerOf(a.miner);
      expect(ledger.filter((e) => e.status === 'rejected')).toEqual([]);
      expect((await meOf(a.miner)).validatedTokens).toBeGreaterThan(0);
    }
  });

  it('catches a miner honest where it expects a check and lazy elsewhere, and revokes its unchecked credit', async () => {
    h = await startHarness(kind, { ...setup, redundancy: 2 });
    await h.validator.addDocuments(documents(400));
    const honestA = actor(h, 1);
    const honestB = actor(h, 2);
    // Knows (as an oracle) whether its task was created with replication; lazy when it was not.
    const lazy = actor(h, 3, (_n, quorum) => (quorum >= 2 ? 'honest' : cheat.randomOutputs(5)));
    const caught = async () => (await ledgerOf(lazy.miner)).some((e) => e.status === 'rejected');
    await runRounds(h, [lazy, honestA, honestB], 60, caught);
    await runRounds(h, [honestA, honestB], 6);
    const entries = await ledgerOf(lazy.miner);
    const lazyOnes = entries.filter((e) => lazy.cheated.get(e.taskId));
    expect(lazyOnes.length).toBeGreaterThan(0);
    expect(lazyOnes.filter((e) => e.status === 'validated' || e.status === 'credited')).toEqual([]);
    expect(lazyOnes.every((e) => e.creditedNano === '0')).toBe(true);
    expect((await meOf(lazy.miner)).streak).toBe(0);
    // It was trusted for a while: some lazy work was first credited unchecked, then revoked.
    expect(lazyOnes.some((e) => e.reason?.startsWith('revoked'))).toBe(true);
  });

  it('settles a disagreement by re-computation, not by arrival order', async () => {
    const recomputer = fakeRecomputer(MODEL_HASH, tokenizer);
    h = await startHarness(kind, { ...setup, redundancy: 2, recomputers: [recomputer] });
    await h.validator.addDocuments(documents(40));
    // The cheater submits first; with two results and no majority only the re-computation decides.
    const cheater = actor(h, 3, (n) => (n === 0 ? cheat.smallerModel(9) : null));
    const honestA = actor(h, 1);
    await runRounds(h, [cheater, honestA], 1);
    expect(recomputer.calls).toBeGreaterThan(0);
    const [cheatEntry] = await ledgerOf(cheater.miner);
    expect(cheatEntry).toMatchObject({ status: 'rejected' });
    expect(cheatEntry!.reason).toMatch(/re-computation/);
    const honestEntries = await ledgerOf(honestA.miner);
    expect(honestEntries.find((e) => e.taskId === cheatEntry!.taskId)).toMatchObject({ status: 'validated' });
  });
});
