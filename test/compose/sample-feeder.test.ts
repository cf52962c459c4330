import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { silentLogger } from '../../src-node/log';
import { SampleFeeder } from '../../src-main/compose/sample-feeder';
import { writeFineWebShard } from '../../src-validator/fineweb/write-shard';
import type { NewDocument } from '../../src-validator/store/store';
import { bundleOf, honestLabels, leaseTask, longStreak, startHarness, STORE_KINDS, type Harness } from '../validator/harness';

/** A FineWeb-format shard of `count` short documents. */
async function writeSample(path: string, count: number) {
  await writeFineWebShard(
    path,
    Array.from({ length: count }, (_, i) => ({
      id: `<urn:uuid:doc-${i}>`,
      text: `document ${i} of the sample, with a few words in it`,
      url: `https://example.org/${i}`,
      dump: 'CC-MAIN-2024-10',
      date: null,
      filePath: null,
      language: 'en',
      languageScore: 0.9,
      tokenCount: 12,
    })),
  );
}

describe.each(STORE_KINDS)('the local sample feeder on %s', (kind) => {
  let dir: string;
  let h: Harness | null = null;
  beforeAll(cryptoWaitReady);
  afterEach(async () => {
    await h?.close();
    h = null;
    rmSync(dir, { recursive: true, force: true });
  });

  it('queues the next round while a task’s worth is still queued, reusing the rows of documents no open task holds', async () => {
    dir = mkdtempSync(join(tmpdir(), 'nya-feeder-'));
    const shard = join(dir, 'sample.parquet');
    await writeSample(shard, 40);
    const running = (h = await startHarness(kind, { redundancy: 1 })).validator;
    const added: number[] = [];
    const validator = {
      store: running.store,
      addDocuments: async (docs: NewDocument[]) => (added.push(docs.length), running.addDocuments(docs)),
    };
    const feeder = new SampleFeeder(validator, { dir, shard, log: silentLogger });
    const queued = async () => (await running.store.queueDepth()).queued;

    await feeder.feedIfLow();
    expect(added).toEqual([40]);
    expect(await queued()).toBe(40);

    // One task left open (leased, not answered), one answered.
    const miner = h.miner(1);
    await longStreak(h, miner);
    const open = await leaseTask(miner, { maxTokens: 40 });
    const answered = await leaseTask(miner, { maxTokens: 40 });
    await miner.submit(answered.taskId, bundleOf(honestLabels(answered, 1)));
    await h.validator.idle();
    // Settled on arrival (unreplicated; the validator's seeded draw spares it a spot check).
    expect((await h.validator.store.taskForUpdate(answered.taskId))!.state).toBe('validated');
    const left = 40 - open.documents.length - answered.documents.length;
    expect(await queued()).toBe(left);

    // Under a task's worth queued: the next round. No new rows; the answered task's documents are
    // queued again, the open task's stay with it.
    await feeder.feedIfLow();
    expect(added).toEqual([40]);
    expect(await queued()).toBe(left + answered.documents.length);
    expect(readFileSync(join(dir, 'sample-round.txt'), 'utf8')).toBe('2\n');
    const next = await leaseTask(miner, { maxTokens: 100_000 });
    const again = new Set(next.documents.map((d) => d.docId));
    for (const d of open.documents) expect(again.has(d.docId)).toBe(false);
    for (const d of answered.documents) expect(again.has(d.docId)).toBe(true);
  });

  it('says so, and adds nothing, when the sample shard is missing', async () => {
    dir = mkdtempSync(join(tmpdir(), 'nya-feeder-'));
    const warnings: string[] = [];
    const added: NewDocument[][] = [];
    const validator = {
      store: { queueDepth: async () => ({ queued: 0, openTasks: 0 }), requeueSettledDocuments: async () => 0 },
      addDocuments: async (docs: NewDocument[]) => (added.push(docs), docs.length),
    };
    const feeder = new SampleFeeder(validator, {
      dir,
      shard: join(dir, 'missing.parquet'),
      log: { ...silentLogger, warn: (m: string) => warnings.push(m) },
    });
    await feeder.feedIfLow();
    expect(added).toEqual([]);
    expect(warnings).toEqual([`no sample data at ${join(dir, 'missing.parquet')}; run \`npm run build\` to generate it`]);
  });
});
