import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { API, LedgerResponse, MeResponse, WeightsResponse, type LedgerEntry, type Task } from '../../src-shared/protocol';
import { decodeResultBundle, decodeSoftLabels } from '../../src-node/soft-labels';
import { u16Weights } from '../../src-validator/accounting/earnings';
import { validatedRecords } from '../../src-validator/export-validated';
import { openStore } from '../../src-validator/store/open-store';
import type { Store } from '../../src-validator/store/store';
import type { SimMiner } from '../../src-validator/bench/sim/sim-miner';
import { randomOutputs } from './cheaters';
import {
  bundleOf,
  documents,
  freshPostgresDatabase,
  honestLabels,
  leaseTask,
  startHarness,
  STORE_KINDS,
  tokenizer,
  type Harness,
  type LeaseBody,
} from './harness';

beforeAll(async () => {
  await cryptoWaitReady();
});

const EPOCH_MS = 3_600_000;
const START_MS = 1_760_000_000_000 - (1_760_000_000_000 % EPOCH_MS);

async function ledgerOf(miner: SimMiner): Promise<LedgerEntry[]> {
  return LedgerResponse.parse((await miner.get(`${API.ledger}?limit=200`)).body).entries;
}

/** The weights file of an epoch as the publisher wrote it, or null when there is none. */
function weightsFile(dataDir: string, epoch: number): WeightsResponse | null {
  const file = join(dataDir, 'weights', `epoch-${epoch}.json`);
  return existsSync(file) ? WeightsResponse.parse(JSON.parse(readFileSync(file, 'utf8'))) : null;
}

/** What the weights of an epoch must be: the u16 scaling of its credit as the store holds it now. */
async function expectedWeights(store: Store, epoch: number): Promise<{ address: string; weight: number }[]> {
  const rows = (await store.epochTokens([epoch], null)).filter((r) => r.tokens > 0).sort((a, b) => (a.miner < b.miner ? -1 : 1));
  return u16Weights(rows).map((r) => ({ address: r.miner, weight: r.weight }));
}

/** Exported rows whose labels are the garbage sent for their task and document. */
async function exportedGarbage(store: Store, garbage: Map<string, Map<string, Int32Array>>): Promise<string[]> {
  const found: string[] = [];
  for await (const r of validatedRecords(store, tokenizer)) {
    const sent = garbage.get(r.taskId)?.get(r.docId);
    if (sent && sent.length === r.topkIds.length && sent.every((id, i) => id === r.topkIds[i])) found.push(`${r.taskId} ${r.docId}`);
  }
  return found;
}

describe.each(STORE_KINDS)('credit matures before it pays on %s', (kind) => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('revokes garbage credited just before an epoch closed when the key is caught in the next one', async () => {
    h = await startHarness(kind, { redundancy: 2, epochMs: EPOCH_MS });
    h.clock.now = START_MS + 60_000;
    const epoch = Math.floor(h.clock.now / EPOCH_MS);
    await h.validator.addDocuments(documents(400));
    const [lazy, a, b] = [h.miner(3), h.miner(1), h.miner(2)];
    const cheated = new Set<string>();
    const garbageLabels = new Map<string, Map<string, Int32Array>>();
    // Honest where a replica will be compared, garbage where it expects no check: a streak, then the cheat.
    const round = async (miners: SimMiner[]) => {
      for (const m of miners) {
        const res = await m.lease<LeaseBody>({ maxTokens: 250 });
        if (res.body.kind !== 'task') continue;
        const task: Task = res.body.task;
        const quorum = (await h.validator.store.taskForUpdate(task.taskId))!.quorum;
        const garbage = m === lazy && quorum < 2;
        const bundle = garbage
          ? randomOutputs(5)(task, { lastBundle: null })
          : bundleOf(honestLabels(task, m === lazy ? 3 : m === a ? 1 : 2));
        if (garbage) {
          cheated.add(task.taskId);
          const records = decodeResultBundle(bundle).map((r) => decodeSoftLabels(r).topkIds);
          garbageLabels.set(task.taskId, new Map(task.documents.map((d, i) => [d.docId, records[i]!])));
        }
        expect((await m.submit(task.taskId, bundle)).status).toBe(200);
      }
      h.clock.now += 1000;
      await h.validator.idle();
    };
    const credited = async () => (await ledgerOf(lazy)).filter((e) => cheated.has(e.taskId) && e.status === 'validated');
    const caught = async () => (await ledgerOf(lazy)).some((e) => e.status === 'rejected');
    for (let i = 0; i < 60 && (await credited()).length === 0; i++) await round([lazy, a, b]);
    expect(await caught()).toBe(false);
    const garbage = await credited();
    expect(garbage.length).toBeGreaterThan(0);
    const garbageTokens = garbage.reduce((s, e) => s + e.tokens, 0);
    const creditAtClose = (await h.validator.store.epochTokens([epoch], lazy.address))[0]!.tokens;
    expect((await exportedGarbage(h.validator.store, garbageLabels)).length).toBeGreaterThan(0);

    // The epoch closes with the garbage credited; its weights must not be paid yet.
    h.clock.now = (epoch + 1) * EPOCH_MS + 1000;
    await h.validator.publishWeights();
    expect(weightsFile(h.dataDir, epoch)).toBeNull();
    const pending = MeResponse.parse((await lazy.get(API.me)).body);
    expect(pending.settledNano).toBe('0');

    // Caught in the next epoch: the revocation reaches the closed, unsettled epoch.
    for (let i = 0; i < 200 && !(await caught()); i++) await round([lazy, a, b]);
    expect(await caught()).toBe(true);
    expect((await credited()).filter((e) => garbage.some((g) => g.taskId === e.taskId))).toEqual([]);
    const creditAfter = (await h.validator.store.epochTokens([epoch], lazy.address))[0]?.tokens ?? 0;
    expect(creditAfter).toBe(creditAtClose - garbageTokens);
    expect(await exportedGarbage(h.validator.store, garbageLabels)).toEqual([]);

    // Once settled, the weights are the credit net of the revocation.
    h.clock.now = (epoch + 2) * EPOCH_MS + 1000;
    await h.validator.publishWeights();
    const published = weightsFile(h.dataDir, epoch);
    expect(published?.weights.map((w) => ({ address: w.address, weight: w.weight }))).toEqual(
      await expectedWeights(h.validator.store, epoch),
    );
    const settled = MeResponse.parse((await lazy.get(API.me)).body);
    expect(BigInt(settled.settledNano!)).toBeGreaterThan(0n);
    expect(BigInt(settled.settledNano!)).toBeLessThanOrEqual(BigInt(settled.earnedNano));
  });

  it('publishes an epoch once it has settled, exactly once, across a restart', async () => {
    const db = kind === 'postgres' ? await freshPostgresDatabase() : null;
    const dataDir = mkdtempSync(join(tmpdir(), 'nya-settle-'));
    const store = await openStore({ dataDir, databaseUrl: db?.url ?? null });
    let v: Harness | null = null;
    try {
      v = h = await startHarness('sqlite', { store, dataDir, redundancy: 2, epochMs: EPOCH_MS });
      h.clock.now = START_MS + 60_000;
      const epoch = Math.floor(h.clock.now / EPOCH_MS);
      await h.validator.addDocuments(documents(20));
      const [a, b] = [h.miner(1), h.miner(2)];
      const t = await leaseTask(a, { maxTokens: 300 });
      expect((await leaseTask(b, { maxTokens: 300 })).taskId).toBe(t.taskId);
      await a.submit(t.taskId, bundleOf(honestLabels(t, 1)));
      await b.submit(t.taskId, bundleOf(honestLabels(t, 2)));

      h.clock.now = (epoch + 2) * EPOCH_MS - 1;
      await h.validator.publishWeights();
      expect(weightsFile(dataDir, epoch)).toBeNull();
      expect(WeightsResponse.parse(await (await fetch(h.validator.url + API.weights)).json()).epoch).not.toBe(epoch);

      h.clock.now = (epoch + 2) * EPOCH_MS;
      await h.validator.publishWeights();
      const first = weightsFile(dataDir, epoch);
      expect(first?.weights.map((w) => ({ address: w.address, weight: w.weight }))).toEqual(await expectedWeights(store, epoch));
      expect(first?.weights).toHaveLength(2);
      rmSync(join(dataDir, 'weights', `epoch-${epoch}.json`));
      await h.validator.publishWeights();
      expect(weightsFile(dataDir, epoch)).toBeNull();

      await h.close();
      v = h = await startHarness('sqlite', { store, dataDir, redundancy: 2, epochMs: EPOCH_MS });
      h.clock.now = (epoch + 2) * EPOCH_MS + 5000;
      await h.validator.publishWeights();
      expect(weightsFile(dataDir, epoch)).toBeNull();
      expect(WeightsResponse.parse(await (await fetch(h.validator.url + API.weights)).json())).toEqual(first);
    } finally {
      await v?.close();
      h = undefined as unknown as Harness;
      await store.close();
      await db?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
