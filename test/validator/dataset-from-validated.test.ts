import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { tokenIdsChecksum } from '../../src-node/soft-labels';
import { validatedRecords } from '../../src-validator/export-validated';
import { writeDataset } from '../../src-validator/export/write-dataset';
import type { ExportRecord } from '../../src-validator/export/write-dataset';
import { bundleOf, documents, honestLabels, leaseTask, startHarness, STORE_KINDS, tokenizer, type Harness } from './harness';

beforeAll(async () => {
  await cryptoWaitReady();
});

describe.each(STORE_KINDS)('the data set from validated results on %s', (kind) => {
  let h: Harness;
  let out: string | null = null;
  afterEach(async () => {
    await h?.close();
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it('exports one record per validated document, with its url and re-derived token ids, and nothing unvalidated', async () => {
    h = await startHarness(kind, { redundancy: 2 });
    const docs = documents(40);
    await h.validator.addDocuments(docs);
    const [a, b] = [h.miner(1), h.miner(2)];
    const validated = await leaseTask(a, { maxTokens: 300 });
    await leaseTask(b, { maxTokens: 300 });
    await a.submit(validated.taskId, bundleOf(honestLabels(validated, 1)));
    await b.submit(validated.taskId, bundleOf(honestLabels(validated, 2)));
    // A task with a single, still pending result stays out of the data set.
    const pending = await leaseTask(a, { maxTokens: 300 });
    await a.submit(pending.taskId, bundleOf(honestLabels(pending, 1)));

    const records: ExportRecord[] = [];
    for await (const r of validatedRecords(h.validator.store, tokenizer)) records.push(r);
    expect(records.map((r) => r.docId)).toEqual(validated.documents.map((d) => d.docId));
    const expected = honestLabels(validated, 1);
    records.forEach((r, i) => {
      expect(r.taskId).toBe(validated.taskId);
      expect(r.url).toBe(docs.find((d) => d.docId === r.docId)!.url);
      expect(tokenIdsChecksum(r.tokenIds)).toBe(expected[i]!.header.tokenIdsChecksum);
      expect(r.topkIds.length).toBe(r.tokenIds.length * r.k);
    });
    out = mkdtempSync(join(tmpdir(), 'nya-dataset-'));
    async function* again() {
      yield* validatedRecords(h.validator.store, tokenizer);
    }
    const written = await writeDataset(out, again(), { shardRows: 2 });
    expect(written.rows).toBe(records.length);
    expect(written.shards.length).toBe(Math.ceil(records.length / 2));
    expect(existsSync(written.manifestPath)).toBe(true);
  });
});
