import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema } from 'hyparquet';
import { parse as parseYaml } from 'yaml';
import { MAX_LOGPROB_ERROR } from '../../src-node/soft-labels';
import { DatasetShardWriter } from '../../src-validator/export/dataset-shard-writer';
import { ExportRecordError } from '../../src-validator/export/export-record';
import type { DatasetManifest } from '../../src-validator/export/manifest';
import { writeDataset, type ExportRecord } from '../../src-validator/export/write-dataset';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nya-export-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Deterministic pseudo-random record; log-probs are arbitrary float32s, not quantised ones. */
function record(i: number, positions = 3 + (i % 5), k = 1 + (i % 4)): ExportRecord {
  let seed = i * 2654435761 + 1;
  const next = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const tokenIds = Int32Array.from({ length: positions }, (_, t) => (t === 0 ? 1 : Math.floor(next() * 32768)));
  const topkIds = Int32Array.from({ length: positions * k }, () => Math.floor(next() * 32768));
  const topkLogprobs = Float32Array.from({ length: positions * k }, () => -next() * 20);
  return {
    docId: `<urn:uuid:doc-${i}>`,
    url: i % 3 === 0 ? null : `https://example.org/${i}`,
    taskId: `task-${Math.floor(i / 2)}`,
    modelHash: (i % 2 ? 'a' : 'b').repeat(64),
    variant: i === 0 ? null : `variant-${i % 2 ? 'a' : 'b'}`,
    k,
    tokenIds,
    topkIds,
    topkLogprobs,
  };
}

async function* stream<T>(items: Iterable<T>): AsyncIterable<T> {
  for (const item of items) yield item;
}

async function readShard(path: string) {
  return parquetReadObjects({ file: await asyncBufferFromFile(path) });
}

function asRow(r: ExportRecord) {
  return {
    doc_id: r.docId,
    url: r.url,
    task_id: r.taskId,
    model_hash: r.modelHash,
    variant: r.variant,
    k: r.k,
    token_ids: Array.from(r.tokenIds),
    topk_ids: Array.from(r.topkIds),
    topk_logprobs: Array.from(r.topkLogprobs),
  };
}

async function readManifest(outDir: string): Promise<DatasetManifest> {
  return JSON.parse(await readFile(join(outDir, 'manifest.json'), 'utf8')) as DatasetManifest;
}

describe('writeDataset', () => {
  it('writes shards of shardRows rows that read back exactly', async () => {
    const outDir = join(dir, 'sharded');
    // The last record has no positions at all: an empty list must survive too.
    const records = [...Array.from({ length: 7 }, (_, i) => record(i)), record(7, 0, 2)];
    const progress: number[] = [];
    const result = await writeDataset(outDir, stream(records), {
      shardRows: 3,
      createdAtMs: 1_760_000_000_000,
      onProgress: (rows) => progress.push(rows),
    });

    expect(result.rows).toBe(8);
    expect(result.shards.map((p) => p.slice(outDir.length + 1))).toEqual([
      'data-00000.parquet',
      'data-00001.parquet',
      'data-00002.parquet',
    ]);
    const shards = await Promise.all(result.shards.map(readShard));
    expect(shards.map((rows) => rows.length)).toEqual([3, 3, 2]);
    expect(shards.flat()).toEqual(records.map(asRow));
    expect(progress.at(-1)).toBe(8);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect((await readdir(outDir)).filter((name) => name.includes('.tmp-'))).toEqual([]);
  });

  it('describes the shards in a manifest whose sizes and hashes match the files', async () => {
    const outDir = join(dir, 'manifest');
    const records = Array.from({ length: 5 }, (_, i) => record(i));
    const result = await writeDataset(outDir, stream(records), { shardRows: 2, createdAtMs: 1_760_000_000_000, modelName: 'tiny' });
    const manifest = await readManifest(outDir);

    expect(result.manifestPath).toBe(join(outDir, 'manifest.json'));
    expect(manifest.license).toBe('MIT');
    expect(manifest.modelName).toBe('tiny');
    expect(manifest.createdAt).toBe('2025-10-09T08:53:20.000Z');
    expect(manifest.rows).toBe(5);
    expect(manifest.positions).toBe(records.reduce((sum, r) => sum + r.tokenIds.length, 0));
    expect(manifest.modelHashes).toEqual(['a'.repeat(64), 'b'.repeat(64)]);
    expect(manifest.variants).toEqual(['variant-a', 'variant-b']);
    expect(manifest.semantics.maxLogprobErrorNats).toBe(MAX_LOGPROB_ERROR);
    expect(manifest.shards.map((s) => s.rows)).toEqual([2, 2, 1]);
    for (const shard of manifest.shards) {
      const bytes = await readFile(join(outDir, shard.name));
      expect(shard.bytes).toBe(bytes.length);
      expect(shard.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    }
    // The manifest's schema is the files' schema.
    const metadata = await parquetMetadataAsync(await asyncBufferFromFile(result.shards[0]!));
    expect(parquetSchema(metadata).children.map((c) => c.element.name)).toEqual(manifest.schema.map((c) => c.name));
  });

  it('writes a valid manifest and dataset card for an empty export', async () => {
    const outDir = join(dir, 'empty');
    const result = await writeDataset(outDir, stream([]), { createdAtMs: 0 });
    expect(result).toEqual({ shards: [], rows: 0, manifestPath: join(outDir, 'manifest.json') });
    const manifest = await readManifest(outDir);
    expect(manifest.rows).toBe(0);
    expect(manifest.shards).toEqual([]);
    expect(manifest.modelHashes).toEqual([]);

    const card = await readFile(join(outDir, 'README.md'), 'utf8');
    const [, yamlHeader] = card.split(/^---$/m);
    const front = parseYaml(yamlHeader!) as Record<string, unknown>;
    expect(front['license']).toBe('mit');
    expect(front['task_categories']).toEqual(['text-generation']);
    expect(front['size_categories']).toEqual(['n<1K']);
    // The card documents every column and the quantisation bound the codec guarantees.
    for (const column of manifest.schema) expect(card).toContain(`| \`${column.name}\` |`);
    expect(card).toContain(`within **${MAX_LOGPROB_ERROR} nats**`);
    expect(card).toContain('BOS prepended, no EOS');
  });

  it('cuts a shard into row groups by top-k cells without losing rows', async () => {
    const path = join(dir, 'row-groups.parquet');
    // 10 positions × k 4 = 40 cells a record: a 100-cell budget closes a group every 3 records.
    const records = Array.from({ length: 8 }, (_, i) => record(i, 10, 4));
    const writer = await DatasetShardWriter.open(path, 100);
    const groupsWritten: boolean[] = [];
    for (const r of records) groupsWritten.push(await writer.add(r));
    const file = await writer.finish();
    await writer.publish();

    expect(groupsWritten).toEqual([false, false, true, false, false, true, false, false]);
    const metadata = await parquetMetadataAsync(await asyncBufferFromFile(path));
    expect(metadata.row_groups.map((g) => Number(g.num_rows))).toEqual([3, 3, 2]);
    expect(file.bytes).toBe((await readFile(path)).length);
    expect(await readShard(path)).toEqual(records.map(asRow));
  });

  it('stops on a malformed record and leaves the previous export untouched', async () => {
    const outDir = join(dir, 'atomic');
    await writeDataset(outDir, stream([record(1), record(2), record(3)]), { shardRows: 2 });
    const before = await readFile(join(outDir, 'manifest.json'), 'utf8');
    const shardBefore = await readFile(join(outDir, 'data-00000.parquet'));

    const bad = { ...record(9), topkIds: new Int32Array(1) };
    const err = await writeDataset(outDir, stream([record(4), record(5), record(6), bad]), { shardRows: 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExportRecordError);
    expect((err as Error).message).toContain('<urn:uuid:doc-9>');
    expect((err as Error).message).toContain('top-k cells');

    expect(await readFile(join(outDir, 'manifest.json'), 'utf8')).toBe(before);
    expect((await readFile(join(outDir, 'data-00000.parquet'))).equals(shardBefore)).toBe(true);
    expect((await readdir(outDir)).sort()).toEqual(['README.md', 'data-00000.parquet', 'data-00001.parquet', 'manifest.json']);
  });

  it('removes shards a smaller re-export no longer lists', async () => {
    const outDir = join(dir, 'shrink');
    await writeDataset(outDir, stream([record(1), record(2), record(3)]), { shardRows: 1 });
    await writeDataset(outDir, stream([record(4)]), { shardRows: 1 });
    expect((await readdir(outDir)).sort()).toEqual(['README.md', 'data-00000.parquet', 'manifest.json']);
    expect(await readShard(join(outDir, 'data-00000.parquet'))).toEqual([asRow(record(4))]);
  });

  it('returns absolute paths for a relative output folder', async () => {
    const outDir = join(dir, 'relative');
    const result = await writeDataset(relative(process.cwd(), outDir), stream([record(1)]));
    expect(result.manifestPath).toBe(join(outDir, 'manifest.json'));
    expect(result.shards).toEqual([join(outDir, 'data-00000.parquet')]);
  });

  it('rejects a shard size that is not a positive integer', async () => {
    await expect(writeDataset(join(dir, 'bad-size'), stream([]), { shardRows: 0 })).rejects.toThrow(/shardRows/);
  });
});
