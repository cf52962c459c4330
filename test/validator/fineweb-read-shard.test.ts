import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { readFineWebShard, type FineWebDoc } from '../../src-validator/fineweb/read-shard';
import { FineWebShardError } from '../../src-validator/fineweb/shard-error';
import { writeFineWebShard, type FineWebRow } from '../../src-validator/fineweb/write-shard';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nya-fineweb-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function row(i: number): FineWebRow {
  return {
    id: `<urn:uuid:00000000-0000-4000-8000-${i.toString().padStart(12, '0')}>`,
    text: `Document ${i}: ${'ωορδ 🐱 '.repeat(i % 7)}end.`,
    url: i % 5 === 0 ? null : `https://example.org/page/${i}`,
    dump: 'CC-MAIN-2024-10',
    date: `2024-02-${String(1 + (i % 28)).padStart(2, '0')}T00:00:00Z`,
    filePath: 's3://commoncrawl/crawl-data/CC-MAIN-2024-10/segments/x/warc/y.warc.gz',
    language: i % 3 === 0 ? null : 'en',
    languageScore: i % 4 === 0 ? null : 0.5 + (i % 50) / 100,
    tokenCount: i % 6 === 0 ? null : 10 + i,
  };
}

function asDoc({ filePath: _ignored, ...doc }: FineWebRow): FineWebDoc {
  return doc;
}

async function readAll(path: string, opts?: Parameters<typeof readFineWebShard>[1]): Promise<FineWebDoc[][]> {
  const batches: FineWebDoc[][] = [];
  for await (const batch of readFineWebShard(path, opts)) batches.push(batch);
  return batches;
}

async function readError(path: string): Promise<FineWebShardError> {
  const err = await readAll(path).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FineWebShardError);
  return err as FineWebShardError;
}

describe('readFineWebShard', () => {
  it('streams several row groups in file order, batch by batch, with progress', async () => {
    const rows = Array.from({ length: 2500 }, (_, i) => row(i));
    const path = join(dir, 'groups.parquet');
    await writeFineWebShard(path, rows, { rowGroupRows: 1000 });

    const progress: Array<{ rowsDone: number; rowsTotal: number }> = [];
    const batches = await readAll(path, { batchRows: 700, onProgress: (p) => progress.push(p) });

    // Batches never span row groups: each group is decoded on its own.
    expect(batches.map((b) => b.length)).toEqual([700, 300, 700, 300, 500]);
    expect(batches.flat()).toEqual(rows.map(asDoc));
    expect(progress.map((p) => p.rowsDone)).toEqual([700, 1000, 1700, 2000, 2500]);
    expect(progress.every((p) => p.rowsTotal === 2500)).toBe(true);
  });

  it('reads a shard with only the required columns, the rest as null', async () => {
    const path = join(dir, 'minimal.parquet');
    const buffer = parquetWriteBuffer({
      columnData: [
        { name: 'id', data: ['a', 'b'], type: 'STRING' },
        { name: 'text', data: ['first', 'second'], type: 'STRING' },
      ],
    });
    await writeFile(path, new Uint8Array(buffer));
    const [docs] = await readAll(path);
    expect(docs).toEqual([
      { id: 'a', text: 'first', url: null, dump: null, date: null, language: null, languageScore: null, tokenCount: null },
      { id: 'b', text: 'second', url: null, dump: null, date: null, language: null, languageScore: null, tokenCount: null },
    ]);
  });

  it('yields nothing for an empty shard', async () => {
    const path = join(dir, 'empty.parquet');
    await writeFineWebShard(path, []);
    const progress: unknown[] = [];
    expect(await readAll(path, { onProgress: (p) => progress.push(p) })).toEqual([]);
    expect(progress).toEqual([]);
  });

  it('names each missing required column', async () => {
    const path = join(dir, 'no-id.parquet');
    const buffer = parquetWriteBuffer({
      columnData: [
        { name: 'url', data: ['https://a.example'], type: 'STRING' },
        { name: 'body', data: ['hello'], type: 'STRING' },
      ],
    });
    await writeFile(path, new Uint8Array(buffer));
    const err = await readError(path);
    expect(err.reason).toBe('missing-column');
    expect(err.message).toContain('`text` or `id`');
    expect(err.message).toContain('url, body');

    const onlyId = join(dir, 'no-text.parquet');
    await writeFile(onlyId, new Uint8Array(parquetWriteBuffer({ columnData: [{ name: 'id', data: ['x'], type: 'STRING' }] })));
    const textErr = await readError(onlyId);
    expect(textErr.message).toContain('no `text` column');
    expect(textErr.message).not.toContain('`id`');
  });

  it('rejects files that are not Parquet, or truncated', async () => {
    const json = join(dir, 'shard.parquet');
    await writeFile(json, '{"text": "this is JSON, not Parquet", "id": "1"}\n'.repeat(10));
    const err = await readError(json);
    expect(err.reason).toBe('not-parquet');
    expect(err.message).toContain(json);

    const good = join(dir, 'good.parquet');
    await writeFineWebShard(good, [row(1), row(2)]);
    const bytes = await readFile(good);
    const truncated = join(dir, 'truncated.parquet');
    await writeFile(truncated, bytes.subarray(0, bytes.length - 10));
    expect((await readError(truncated)).reason).toBe('not-parquet');

    const tiny = join(dir, 'tiny.parquet');
    await writeFile(tiny, 'PAR1');
    expect((await readError(tiny)).message).toContain('only 4 bytes');
  });

  it('reports a damaged row group as corrupt, naming the group', async () => {
    const path = join(dir, 'damaged.parquet');
    const info = await writeFineWebShard(path, Array.from({ length: 50 }, (_, i) => row(i)));
    const bytes = await readFile(path);
    // Overwrite the first column chunk (just after the leading PAR1) with garbage.
    bytes.fill(0xff, 4, Math.min(400, info.bytes / 2));
    await writeFile(path, bytes);
    const err = await readError(path);
    expect(err.reason).toBe('corrupt');
    expect(err.message).toContain('row group 0');
  });

  it('says when the path cannot be read', async () => {
    const missing = await readError(join(dir, 'nope.parquet'));
    expect(missing.reason).toBe('unreadable');
    expect(missing.message).toContain('no such file');

    const folder = join(dir, 'a-folder');
    await mkdir(folder);
    expect((await readError(folder)).message).toContain('directory');
  });

  it('rejects a row without text instead of dropping it', async () => {
    const path = join(dir, 'null-text.parquet');
    await writeFineWebShard(path, [row(1), { ...row(2), text: null as unknown as string }]);
    const err = await readError(path);
    expect(err.reason).toBe('bad-row');
    expect(err.message).toContain('row 1');
  });
});
