import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { API, MeResponse } from '../../src-shared/protocol';
import type { SimMiner } from '../../src-validator/bench/sim/sim-miner';
import { bundleOf, documents, honestLabels, leaseTask, startHarness, STORE_KINDS, type Harness } from './harness';

beforeAll(async () => {
  await cryptoWaitReady();
});

const DAY_MS = 86_400_000;
/** No timer run during a test: each one prunes when it says so. */
const NO_TIMER = { retentionIntervalMs: 3_600_000 };

/** Result files on disk (SQLite keeps bodies as files; PostgreSQL in the database). */
function bodyFiles(dataDir: string): number {
  const dir = join(dataDir, 'results');
  if (!existsSync(dir)) return 0;
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
}

describe.each(STORE_KINDS)('result body retention on %s', (kind) => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  /** A task both miners labelled and agreed on: validated, one body kept. */
  async function validatedTask(a: SimMiner, b: SimMiner): Promise<string> {
    const t = await leaseTask(a, { maxTokens: 300 });
    expect((await leaseTask(b, { maxTokens: 300 })).taskId).toBe(t.taskId);
    await a.submit(t.taskId, bundleOf(honestLabels(t, 1)));
    await b.submit(t.taskId, bundleOf(honestLabels(t, 2)));
    return t.taskId;
  }

  const kept = async (taskId: string) =>
    (await h.validator.store.resultsOfTask(taskId)).filter((r) => r.bodyKept).map((r) => ({ status: r.status, miner: r.miner }));

  it('frees validated bodies past the size cap, never a pending one, and keeps the ledger and totals', async () => {
    h = await startHarness(kind, { redundancy: 2, resultRetention: { keepDays: null, keepBytes: 1 }, ...NO_TIMER });
    await h.validator.addDocuments(documents(60));
    const [a, b] = [h.miner(1), h.miner(2)];
    const done = [await validatedTask(a, b), await validatedTask(a, b)];
    // A result waiting for its replica: the check that will compare against it needs its body.
    const waiting = await leaseTask(a, { maxTokens: 300 });
    await a.submit(waiting.taskId, bundleOf(honestLabels(waiting, 1)));
    for (const taskId of done) expect(await kept(taskId)).toHaveLength(1);
    const before = MeResponse.parse((await a.get(API.me)).body);
    const filesBefore = bodyFiles(h.dataDir);

    const freed = await h.validator.pruneResultBodies();

    expect(freed.bodies).toBe(2);
    expect(freed.bytes).toBeGreaterThan(0);
    for (const taskId of done) {
      expect(await kept(taskId)).toEqual([]);
      expect((await h.validator.store.resultsOfTask(taskId)).map((r) => r.status)).toEqual(['validated', 'validated']);
    }
    expect(await kept(waiting.taskId)).toEqual([{ status: 'pending', miner: a.address }]);
    expect(await h.validator.store.resultBody(waiting.taskId, a.address)).not.toBeNull();
    if (kind === 'sqlite') expect(bodyFiles(h.dataDir)).toBe(filesBefore - 2);
    const after = MeResponse.parse((await a.get(API.me)).body);
    expect(after.validatedTokens).toBe(before.validatedTokens);
    expect(after.earnedNano).toBe(before.earnedNano);
    // The replica still finds its peer's body, is compared, and validates the task.
    const replica = await leaseTask(b, { maxTokens: 300 });
    expect(replica.taskId).toBe(waiting.taskId);
    expect((await b.submit(replica.taskId, bundleOf(honestLabels(replica, 2)))).body).toMatchObject({ status: 'validated' });
    // Running again frees what became prunable, and nothing twice.
    expect((await h.validator.pruneResultBodies()).bodies).toBe(1);
    expect((await h.validator.pruneResultBodies()).bodies).toBe(0);
  });

  it('frees bodies older than --keep-results-days and keeps the newer ones', async () => {
    h = await startHarness(kind, { redundancy: 2, resultRetention: { keepDays: 1, keepBytes: null }, ...NO_TIMER });
    await h.validator.addDocuments(documents(60));
    const [a, b] = [h.miner(1), h.miner(2)];
    const old = await validatedTask(a, b);
    h.clock.now += 2 * DAY_MS;
    const recent = await validatedTask(a, b);

    expect((await h.validator.pruneResultBodies()).bodies).toBe(1);
    expect(await kept(old)).toEqual([]);
    expect(await kept(recent)).toHaveLength(1);
  });

  it('local retention also forgets settled tasks whose bodies are gone, and only those: totals, credit and pending work stay', async () => {
    const EPOCH_MS = 3_600_000;
    h = await startHarness(kind, {
      redundancy: 2,
      epochMs: EPOCH_MS,
      settleEpochs: 1,
      resultRetention: { keepDays: null, keepBytes: 1, forgetTasks: true },
      ...NO_TIMER,
    });
    await h.validator.addDocuments(documents(60));
    const [a, b] = [h.miner(1), h.miner(2)];
    const done = [await validatedTask(a, b), await validatedTask(a, b)];
    const waiting = await leaseTask(a, { maxTokens: 300 });
    await a.submit(waiting.taskId, bundleOf(honestLabels(waiting, 1)));
    const before = MeResponse.parse((await a.get(API.me)).body);

    // Bodies go at once; the tasks stay while their epoch can still be revoked.
    expect(await h.validator.pruneResultBodies()).toMatchObject({ bodies: 2, tasks: 0 });
    for (const taskId of done) expect(await h.validator.store.resultsOfTask(taskId)).toHaveLength(2);

    // Once that epoch is settled, their rows go too; the task still waiting for its replica stays.
    h.clock.now += 3 * EPOCH_MS;
    expect(await h.validator.pruneResultBodies()).toMatchObject({ bodies: 0, tasks: 2 });
    for (const taskId of done) {
      expect(await h.validator.store.taskForUpdate(taskId)).toBeNull();
      expect(await h.validator.store.resultsOfTask(taskId)).toEqual([]);
    }
    expect(await h.validator.store.resultBody(waiting.taskId, a.address)).not.toBeNull();
    const after = MeResponse.parse((await a.get(API.me)).body);
    expect(after.validatedTokens).toBe(before.validatedTokens);
    expect(after.earnedNano).toBe(before.earnedNano);
    expect((await h.validator.pruneResultBodies()).tasks).toBe(0);
    // The replica still comes and settles the task that waited.
    const replica = await leaseTask(b, { maxTokens: 300 });
    expect(replica.taskId).toBe(waiting.taskId);
    expect((await b.submit(replica.taskId, bundleOf(honestLabels(replica, 2)))).body).toMatchObject({ status: 'validated' });
  });

  it('keeps every validated body by default: they are the data set', async () => {
    h = await startHarness(kind, { redundancy: 2, ...NO_TIMER });
    await h.validator.addDocuments(documents(30));
    const [a, b] = [h.miner(1), h.miner(2)];
    const taskId = await validatedTask(a, b);
    h.clock.now += 365 * DAY_MS;
    expect(await h.validator.pruneResultBodies()).toEqual({ bodies: 0, bytes: 0, tasks: 0 });
    expect(await kept(taskId)).toHaveLength(1);
  });
});
