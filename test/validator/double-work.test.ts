import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { API, LedgerResponse, type Task } from '../../src-shared/protocol';
import { fakeRecomputer } from '../../src-validator/bench/sim/fake-teacher';
import type { SimMiner } from '../../src-validator/bench/sim/sim-miner';
import * as cheat from './cheaters';
import {
  bundleOf,
  documents,
  honestLabels,
  leaseTask,
  MODEL_HASH,
  startHarness,
  STORE_KINDS,
  tokenizer,
  type Harness,
  type LeaseBody,
} from './harness';

/*
 * Two separate revocations can each take one validated result of the same task: the first takes
 * the kept copy (the documents are queued again, as a new task, while the other key keeps its
 * credit), the second the last one. The task must not then be reopened as well: its documents
 * would be computed, and paid, twice.
 */

beforeAll(async () => {
  await cryptoWaitReady();
});

/** Two keys lease one task back to back and answer it. */
async function pair(
  h: Harness,
  a: SimMiner,
  b: SimMiner,
  answerA: (t: Task) => Uint8Array,
  answerB: (t: Task) => Uint8Array,
): Promise<Task> {
  const task = await leaseTask(a, { maxTokens: 200 });
  expect((await leaseTask(b, { maxTokens: 200 })).taskId).toBe(task.taskId);
  await a.submit(task.taskId, answerA(task));
  await b.submit(task.taskId, answerB(task));
  await h.validator.idle();
  return task;
}

const honestBy = (seed: number) => (t: Task) => bundleOf(honestLabels(t, seed));
const garbage = (t: Task) => cheat.fabricatedFor(t.taskId)(t, { lastBundle: null });

async function statusOn(miner: SimMiner, taskId: string): Promise<string | undefined> {
  return LedgerResponse.parse((await miner.get(`${API.ledger}?limit=200`)).body).entries.find((e) => e.taskId === taskId)?.status;
}

describe.each(STORE_KINDS)('re-work after revocations on %s', (kind) => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('two revocations hitting different keys of one task queue its documents once', async () => {
    h = await startHarness(kind, { redundancy: 2, recomputers: [fakeRecomputer(MODEL_HASH, tokenizer)], audits: { share: 0 } });
    await h.validator.addDocuments(documents(40));
    const [a, b, witness] = [h.miner(1), h.miner(2), h.miner(3)];
    const shared = await pair(h, a, b, honestBy(1), honestBy(2));
    expect([await statusOn(a, shared.taskId), await statusOn(b, shared.taskId)]).toEqual(['validated', 'validated']);
    const sharedDocs = new Set(shared.documents.map((d) => d.docId));

    // From here on, every task a document of the shared task goes into.
    const workOn = new Map<string, Set<string>>();
    const note = (t: Task) => {
      for (const d of t.documents)
        if (sharedDocs.has(d.docId)) (workOn.get(d.docId) ?? workOn.set(d.docId, new Set()).get(d.docId)!).add(t.taskId);
    };
    // Each key is caught by the teacher on a task of its own (garbage against an honest witness): all its unsettled credit goes.
    note(await pair(h, a, witness, garbage, honestBy(3)));
    note(await pair(h, b, witness, garbage, honestBy(3)));
    expect([await statusOn(a, shared.taskId), await statusOn(b, shared.taskId)]).toEqual(['rejected', 'rejected']);

    // Honest miners drain the queue.
    const drainers = [h.miner(4), h.miner(5)];
    for (let idle = 0; idle < 2;) {
      idle++;
      for (const [i, m] of drainers.entries()) {
        const res = await m.lease<LeaseBody>({ maxTokens: 400 });
        if (res.body.kind !== 'task') continue;
        idle = 0;
        note(res.body.task);
        await m.submit(res.body.task.taskId, bundleOf(honestLabels(res.body.task, 4 + i)));
      }
      await h.validator.idle();
    }
    expect([...workOn.keys()].sort()).toEqual([...sharedDocs].sort());
    for (const [docId, tasks] of workOn) expect([docId, tasks.size]).toEqual([docId, 1]);
  });
});
