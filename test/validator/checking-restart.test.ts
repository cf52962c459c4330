import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { fakeRecomputer } from '../../src-validator/bench/sim/fake-teacher';
import type { SimMiner } from '../../src-validator/bench/sim/sim-miner';
import type { ValidatorOptions } from '../../src-validator/index';
import { openStore } from '../../src-validator/store/open-store';
import type { Store } from '../../src-validator/store/store';
import {
  bundleOf,
  documents,
  freshPostgresDatabase,
  honestLabels,
  leaseTask,
  ledgerStatuses,
  MODEL_HASH,
  startHarness,
  STORE_KINDS,
  tokenizer,
  type Harness,
} from './harness';

beforeAll(async () => {
  await cryptoWaitReady();
});

/*
 * A task whose results disagree (or a fresh key's) is set to checking in the submission's
 * transaction; its re-computation is queued in memory. A validator killed in between (a crash, an
 * OOM kill, a power cut) used to leave the task in checking for good: its pending results were
 * never decided, and never paid.
 */
describe.each(STORE_KINDS)('a task a stopped validator left in checking, on %s', (kind) => {
  let h: Harness | null = null;
  let store: Store;
  let dataDir: string;
  let drop: (() => Promise<void>) | null = null;

  afterEach(async () => {
    await h?.close();
    h = null;
    await store.close();
    await drop?.();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** A first run that stops with one task in checking, its one result pending; then a second run on the same database. */
  async function leftInChecking(second: Partial<ValidatorOptions>): Promise<{ taskId: string; miner: SimMiner }> {
    const db = kind === 'postgres' ? await freshPostgresDatabase() : null;
    drop = db?.drop ?? null;
    dataDir = mkdtempSync(join(tmpdir(), 'nya-checking-'));
    store = await openStore({ dataDir, databaseUrl: db?.url ?? null });
    h = await startHarness('sqlite', { store, dataDir, redundancy: 2 });
    await h.validator.addDocuments(documents(20));
    const miner = h.miner(1);
    const task = await leaseTask(miner, { maxTokens: 300 });
    await miner.submit(task.taskId, bundleOf(honestLabels(task, 1)));
    // What the process had committed when it died: the task in checking, the re-check only queued.
    await store.transaction((tx) => tx.setTaskState(task.taskId, 'checking'));
    await h.close();
    h = await startHarness('sqlite', { store, dataDir, redundancy: 2, ...second });
    return { taskId: task.taskId, miner: h.miner(1) };
  }

  it('is re-computed when the validator starts again, and its pending result validated', async () => {
    const recomputer = fakeRecomputer(MODEL_HASH, tokenizer);
    const { taskId, miner } = await leftInChecking({ recomputers: [recomputer] });
    await h!.validator.idle();
    expect(recomputer.calls).toBe(1);
    expect((await store.taskForUpdate(taskId))!.state).toBe('validated');
    expect(await ledgerStatuses(miner)).toEqual(['validated']);
  });

  it('goes to one more miner when the validator starts again without a teacher for it', async () => {
    const { taskId, miner } = await leftInChecking({});
    await h!.validator.idle();
    // Open again, for one miner more than it had (as when its teacher fails): the majority decides.
    expect(await store.taskForUpdate(taskId)).toMatchObject({ state: 'open', quorum: 3 });
    for (const seed of [2, 3]) {
      const other = h!.miner(seed);
      const replica = await leaseTask(other, { maxTokens: 300 });
      expect(replica.taskId).toBe(taskId);
      await other.submit(taskId, bundleOf(honestLabels(replica, seed)));
    }
    expect((await store.taskForUpdate(taskId))!.state).toBe('validated');
    expect(await ledgerStatuses(miner)).toEqual(['validated']);
  });
});
