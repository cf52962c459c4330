import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src-node/log';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { API, LedgerResponse, MeResponse, type Task } from '../../src-shared/protocol';
import { fakeRecomputer, labelTask } from '../../src-validator/bench/sim/fake-teacher';
import type { SimMiner } from '../../src-validator/bench/sim/sim-miner';
import { validatedRecords } from '../../src-validator/export-validated';
import type { Recomputer, TeacherVariantSpec } from '../../src-validator/index';
import * as cheat from './cheaters';
import {
  bundleOf,
  documents,
  honestLabels,
  leaseTask,
  startHarness,
  STORE_KINDS,
  tokenizer,
  type Harness,
  type LeaseBody,
} from './harness';

/*
 * One validator, two teacher variants (an fp16 and an int4 export of one model). Their labels
 * differ by more than jitter, so a task is checked only by its own variant: replicas from miners
 * leasing with the same hash, re-computation only by a validator teacher of that variant. These
 * are the attacks on that: a key leasing one variant and sending another model's labels, a key
 * switching hash between lease and submit, colluders on a variant few others mine, and the
 * validator's own teacher of one variant checking another's work.
 */

beforeAll(async () => {
  await cryptoWaitReady();
});

const FP16_HASH = 'f1'.repeat(32);
const INT4_HASH = 'e4'.repeat(32);
/** The int4 export as the fake teacher sees it: another model family past the top few ranks. */
const INT4_MODEL = { variant: 4 };

const hashOnly = (id: string, modelHash: string): TeacherVariantSpec => ({
  id,
  label: id,
  modelHash,
  minVramMiB: 0,
  dir: null,
  files: [],
  mirrors: [],
});
const VARIANTS = [hashOnly('test-fp16', FP16_HASH), hashOnly('test-int4', INT4_HASH)];

/** Seeds of keys the harness does not establish: fresh keys. */
const FRESH = 800;

async function me(miner: SimMiner): Promise<MeResponse> {
  return MeResponse.parse((await miner.get(API.me)).body);
}

async function ledger(miner: SimMiner) {
  return LedgerResponse.parse((await miner.get(`${API.ledger}?limit=200`)).body).entries;
}

/** Labels as a miner running the variant a task was leased for computes them. */
function labelsFor(task: Task, seed: number) {
  return bundleOf(honestLabels(task, seed, task.modelHash === INT4_HASH ? INT4_MODEL : {}));
}

/** A variant's own teacher, noting the tasks it was asked to label. */
function teacherOf(modelHash: string, model: { variant?: number } = {}): Recomputer & { labelled: string[] } {
  const inner = fakeRecomputer(modelHash, tokenizer, { noise: 0.01, noiseSeed: 4242, ...model });
  const labelled: string[] = [];
  return { modelHash, labelled, label: (task) => (labelled.push(task.taskId), inner.label(task)) };
}

/** Each key leases a task of the variant and answers it (keys asking back to back take each other's replicas). */
async function workOn(modelHash: string, miners: SimMiner[], answer: (task: Task, seed: number) => Uint8Array): Promise<void> {
  for (const [i, m] of miners.entries()) {
    const res = await m.lease<LeaseBody>({ maxTokens: 250, modelHash });
    if (res.body.kind === 'task') await m.submit(res.body.task.taskId, answer(res.body.task, 1 + i));
  }
}

/** The same made-up labels from both keys of a pair. */
const colluding = (task: Task) => cheat.fabricatedFor(task.taskId)(task, { lastBundle: null });

describe.each(STORE_KINDS)('teacher variants on %s', (kind) => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  async function start(opts: Parameters<typeof startHarness>[1] = {}): Promise<void> {
    h = await startHarness(kind, { variants: VARIANTS, redundancy: 2, ...opts });
    await h.validator.addDocuments(documents(120));
  }

  it('refuses an unknown model hash with 409 wrong-model naming the accepted variants; no hash gets the default', async () => {
    await start();
    const refused = await h.miner(1).lease<{ error: { code: string; message: string } }>({ modelHash: 'ab'.repeat(32) });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('wrong-model');
    expect(refused.body.error.message).toMatch(/test-fp16 .*test-int4/);
    expect((await leaseTask(h.miner(1))).modelHash).toBe(FP16_HASH);
  });

  it("binds a task to its first lease's variant: its replicas go only to keys leasing with that hash", async () => {
    await start();
    const [int4a, fp16, int4b] = [h.miner(1), h.miner(2), h.miner(3)];
    const first = await leaseTask(int4a, { maxTokens: 300, modelHash: INT4_HASH });
    const other = await leaseTask(fp16, { maxTokens: 300, modelHash: FP16_HASH });
    expect(other.taskId).not.toBe(first.taskId);
    expect(other.modelHash).toBe(FP16_HASH);
    const replica = await leaseTask(int4b, { maxTokens: 300, modelHash: INT4_HASH });
    expect(replica.taskId).toBe(first.taskId);
    expect(replica.modelHash).toBe(INT4_HASH);
    await int4a.submit(first.taskId, labelsFor(first, 1));
    const settled = await int4b.submit(replica.taskId, labelsFor(replica, 3));
    expect(settled.body).toEqual({ status: 'validated', creditedTokens: first.tokens });
    // The fp16 task waits for an fp16 replica, not for either int4 key.
    await fp16.submit(other.taskId, labelsFor(other, 2));
    expect((await me(fp16)).pendingTokens).toBe(other.tokens);
  });

  it('rejects a key that leases the int4 variant and sends labels of another model (int4 replica, int4 re-computation)', async () => {
    const recomputer = fakeRecomputer(INT4_HASH, tokenizer, { noise: 0.01, noiseSeed: 99, ...INT4_MODEL });
    await start({ recomputers: [Object.assign(recomputer, { modelHash: INT4_HASH })] });
    const [cheater, honest] = [h.miner(1), h.miner(2)];
    const task = await leaseTask(cheater, { maxTokens: 300, modelHash: INT4_HASH });
    expect((await leaseTask(honest, { maxTokens: 300, modelHash: INT4_HASH })).taskId).toBe(task.taskId);
    // The fp16 model's labels (cheaper to get from a mirror, or a bigger card), headed as int4.
    await cheater.submit(task.taskId, bundleOf(labelTask(task, INT4_HASH, tokenizer, { noise: 0.01, noiseSeed: 1 })));
    await honest.submit(task.taskId, labelsFor(task, 2));
    await h.validator.idle();
    expect(recomputer.calls).toBe(1);
    expect([(await me(cheater)).validatedTokens, (await me(cheater)).rejectedTokens]).toEqual([0, task.tokens]);
    expect((await me(honest)).validatedTokens).toBe(task.tokens);
  });

  it('rejects a key that switches hash between lease and submit', async () => {
    await start();
    const [switcher, honest] = [h.miner(1), h.miner(2)];
    const task = await leaseTask(switcher, { maxTokens: 300, modelHash: INT4_HASH });
    await leaseTask(honest, { maxTokens: 300, modelHash: INT4_HASH });
    const answer = await switcher.submit(task.taskId, bundleOf(labelTask(task, FP16_HASH, tokenizer, { noise: 0.01, noiseSeed: 1 })));
    expect(answer.body).toMatchObject({ status: 'rejected', reason: expect.stringMatching(/labelled by model f1f1.*not the task's/) });
    await honest.submit(task.taskId, labelsFor(task, 2));
    expect((await me(switcher)).validatedTokens).toBe(0);
    // A lease with the other hash is another variant's task, never a way into this one.
    const next = await leaseTask(switcher, { maxTokens: 300, modelHash: FP16_HASH });
    expect(next.taskId).not.toBe(task.taskId);
  });

  it("re-computes with the validator's teacher only the tasks of its variant; fresh keys of the other wait, unharmed", async () => {
    // The validator's own teacher is the fp16 export; int4 labels would disagree with it.
    const recomputer = Object.assign(fakeRecomputer(FP16_HASH, tokenizer), { modelHash: FP16_HASH });
    await start({ recomputers: [recomputer] });
    const [int4a, int4b, fp16] = [h.miner(FRESH), h.miner(FRESH + 1), h.miner(FRESH + 2)];
    for (const miner of [int4a, int4b]) {
      const task = await leaseTask(miner, { maxTokens: 300, modelHash: INT4_HASH });
      await miner.submit(task.taskId, labelsFor(task, 5));
    }
    await h.validator.idle();
    expect(recomputer.calls).toBe(0);
    for (const miner of [int4a, int4b]) {
      const mine = await me(miner);
      expect([mine.validatedTokens, mine.rejectedTokens, mine.pendingTokens > 0]).toEqual([0, 0, true]);
    }
    const task = await leaseTask(fp16, { maxTokens: 300, modelHash: FP16_HASH });
    await fp16.submit(task.taskId, labelsFor(task, 6));
    await h.validator.idle();
    expect(recomputer.calls).toBe(1);
    expect((await me(fp16)).validatedTokens).toBe(task.tokens);
  });

  it('lets no two fresh colluders on a rarely mined variant check each other, while the popular variant is paid', async () => {
    await start();
    const colluders = [h.miner(FRESH), h.miner(FRESH + 1)];
    const honest = [h.miner(1), h.miner(2)];
    const fabricated = (task: Task) => cheat.randomOutputs(task.taskId.length * 7919)(task, { lastBundle: null });
    for (let round = 0; round < 4; round++) {
      for (const c of colluders) {
        const res = await c.lease<LeaseBody>({ maxTokens: 250, modelHash: INT4_HASH });
        if (res.body.kind === 'task') await c.submit(res.body.task.taskId, fabricated(res.body.task));
      }
      for (const [i, m] of honest.entries()) {
        const res = await m.lease<LeaseBody>({ maxTokens: 250, modelHash: FP16_HASH });
        if (res.body.kind === 'task') await m.submit(res.body.task.taskId, labelsFor(res.body.task, 1 + i));
      }
    }
    const held = await Promise.all(colluders.map(async (c) => new Set((await ledger(c)).map((e) => e.taskId))));
    expect(held[0]!.size).toBeGreaterThan(0);
    expect([...held[0]!].filter((t) => held[1]!.has(t))).toEqual([]);
    for (const c of colluders) expect((await me(c)).validatedTokens).toBe(0);
    for (const m of honest) expect((await me(m)).validatedTokens).toBeGreaterThan(0);
  });

  it('pays the same per token whichever variant computed it', async () => {
    await start();
    const pairs: [SimMiner, SimMiner, string][] = [
      [h.miner(1), h.miner(2), FP16_HASH],
      [h.miner(3), h.miner(4), INT4_HASH],
    ];
    for (const [a, b, modelHash] of pairs) {
      const task = await leaseTask(a, { maxTokens: modelHash === FP16_HASH ? 200 : 500, modelHash });
      expect((await leaseTask(b, { maxTokens: 500, modelHash })).taskId).toBe(task.taskId);
      await a.submit(task.taskId, labelsFor(task, 1));
      await b.submit(task.taskId, labelsFor(task, 2));
    }
    const seen = await Promise.all(pairs.flatMap(([a, b]) => [a, b]).map(me));
    const total = seen.reduce((sum, m) => sum + m.validatedTokens, 0);
    expect(new Set(seen.map((m) => m.validatedTokens)).size).toBe(2);
    for (const m of seen) {
      // Each key's share of the epoch's emission is its share of the tokens, to the nano.
      expect(Math.abs(Number(m.earnedNano) - (m.validatedTokens / total) * 1e9)).toBeLessThanOrEqual(1);
    }
  });

  it('names the variant of each exported row, and exports one variant alone', async () => {
    await start();
    for (const [seeds, modelHash] of [
      [[1, 2], FP16_HASH],
      [[3, 4], INT4_HASH],
    ] as const) {
      const [a, b] = seeds.map((s) => h.miner(s));
      const task = await leaseTask(a!, { maxTokens: 300, modelHash });
      await leaseTask(b!, { maxTokens: 300, modelHash });
      await a!.submit(task.taskId, labelsFor(task, 1));
      await b!.submit(task.taskId, labelsFor(task, 2));
    }
    const rows = async (variant: string | null) => {
      const out: [string | null, string][] = [];
      for await (const r of validatedRecords(h.validator.store, tokenizer, variant)) out.push([r.variant, r.modelHash]);
      return out;
    };
    const all = await rows(null);
    expect(new Set(all.map(([v, hash]) => `${v} ${hash}`))).toEqual(new Set([`test-fp16 ${FP16_HASH}`, `test-int4 ${INT4_HASH}`]));
    const int4 = await rows('test-int4');
    expect(int4.length).toBeGreaterThan(0);
    expect(int4.every(([v]) => v === 'test-int4')).toBe(true);
    expect(int4.length + (await rows('test-fp16')).length).toBe(all.length);
  });

  it("audits each variant with its own teacher only: each variant's colluders are caught by its teacher, honest pairs of both pass", async () => {
    const teachers = { [FP16_HASH]: teacherOf(FP16_HASH), [INT4_HASH]: teacherOf(INT4_HASH, INT4_MODEL) };
    await start({ recomputers: Object.values(teachers), audits: { share: 1, auditsPerKey: 0 } });
    const variantOf = async (taskId: string) => (await h.validator.store.taskForUpdate(taskId))!.modelHash;
    const colluders = { [FP16_HASH]: [h.miner(10), h.miner(11)], [INT4_HASH]: [h.miner(12), h.miner(13)] };
    const honest = { [FP16_HASH]: [h.miner(20), h.miner(21)], [INT4_HASH]: [h.miner(22), h.miner(23)] };
    for (let round = 0; round < 3; round++) {
      for (const modelHash of [FP16_HASH, INT4_HASH]) {
        await workOn(modelHash, colluders[modelHash]!, colluding);
        await workOn(modelHash, honest[modelHash]!, labelsFor);
      }
      await h.validator.idle();
    }
    for (const [modelHash, teacher] of Object.entries(teachers)) {
      expect(teacher.labelled.length).toBeGreaterThan(0);
      // A teacher never judges another variant's task.
      for (const taskId of teacher.labelled) expect(await variantOf(taskId)).toBe(modelHash);
      for (const m of colluders[modelHash]!) {
        const seen = await me(m);
        expect([seen.validatedTokens, seen.rejectedTokens > 0]).toEqual([0, true]);
        // Caught by its own variant's teacher: every task it was rejected on is one that teacher audited.
        const rejected = (await ledger(m)).filter((e) => e.status === 'rejected').map((e) => e.taskId);
        for (const taskId of rejected) expect(teacher.labelled).toContain(taskId);
      }
      // The first round's colluders took each other's replicas and agreed: only the audit saw through them.
      const both = await Promise.all(
        colluders[modelHash]!.map(async (m) => (await ledger(m)).filter((e) => e.status === 'rejected').map((e) => e.taskId)),
      );
      expect(both[0]!.filter((t) => both[1]!.includes(t)).length).toBeGreaterThan(0);
      for (const m of honest[modelHash]!) {
        expect((await me(m)).validatedTokens).toBeGreaterThan(0);
        expect((await ledger(m)).map((e) => e.status)).not.toContain('rejected');
      }
    }
    expect(h.validator.audits().failed).toBeGreaterThanOrEqual(2);
    expect(h.validator.audits().skipped).toBe(0);
  });

  it('a failing int4 teacher stops int4 audits only: fp16 colluders are still caught by the fp16 teacher', async () => {
    const errors: string[] = [];
    const fp16Teacher = teacherOf(FP16_HASH);
    const int4Teacher: Recomputer = { modelHash: INT4_HASH, label: () => Promise.reject(new Error('CUDA error: out of memory')) };
    await start({
      recomputers: [fp16Teacher, int4Teacher],
      audits: { share: 1, auditsPerKey: 0 },
      log: { ...silentLogger, error: (m: string) => errors.push(m), child: () => silentLogger },
    });
    const [int4a, int4b] = [h.miner(22), h.miner(23)];
    for (let round = 0; round < 3; round++) await workOn(INT4_HASH, [int4a, int4b], labelsFor);
    await h.validator.idle();
    expect(errors.filter((e) => e.startsWith('audits off')).length).toBe(1);
    expect(errors.find((e) => e.startsWith('audits off'))).toMatch(/test-int4/);
    const colluders = [h.miner(10), h.miner(11)];
    await workOn(FP16_HASH, colluders, colluding);
    await h.validator.idle();
    for (const m of colluders) expect([(await me(m)).validatedTokens, (await me(m)).rejectedTokens > 0]).toEqual([0, true]);
    expect(fp16Teacher.labelled.length).toBe(1);
    // The int4 pair's work stands unaudited (the teacher failed on the first, the rest were skipped).
    for (const m of [int4a, int4b]) expect((await ledger(m)).map((e) => e.status)).toEqual(['validated', 'validated', 'validated']);
    expect(h.validator.audits()).toMatchObject({ failed: 1, passed: 0 });
    expect(h.validator.audits().skipped).toBe(3);
  });
});
