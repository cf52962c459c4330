import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetMetadata } from 'hyparquet';
import { Compression, readParquet, writeParquet, WriterPropertiesBuilder } from 'parquet-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFineWebShard, type FineWebDoc } from '../../src-validator/fineweb/read-shard';
import { writeFineWebShard, type FineWebRow } from '../../src-validator/fineweb/write-shard';

/**
 * Shards as other tools publish them: parquet-wasm is arrow-rs's Parquet writer (the one DuckDB's
 * and polars' cousins share the format rules with) compiled to wasm, so these files come from a
 * second, independent implementation, each codec with its own framing (LZ4 is Hadoop's framed
 * variant, LZ4_RAW the plain block format).
 */
const CODECS = ['UNCOMPRESSED', 'SNAPPY', 'GZIP', 'ZSTD', 'LZ4', 'LZ4_RAW', 'BROTLI'] as const;

let dir: string;
let hyparquetShard: Uint8Array;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nya-fineweb-arrow-rs-'));
  const path = join(dir, 'source.parquet');
  await writeFineWebShard(path, ROWS, { rowGroupRows: 40 });
  hyparquetShard = new Uint8Array(await readFile(path));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ROWS: FineWebRow[] = Array.from({ length: 100 }, (_, i) => ({
  id: `<urn:uuid:${String(i).padStart(8, '0')}-0000-4000-8000-000000000000>`,
  // Repetitive text, so every codec really compresses (a codec may store incompressible pages raw).
  text: `Document ${i}: ${'the cat sat on the mat; 猫 🐱 '.repeat(1 + (i % 9))}`,
  url: i % 7 === 0 ? null : `https://example.com/${i}`,
  dump: 'CC-MAIN-2024-10',
  date: '2024-02-21T05:12:33Z',
  filePath: 's3://commoncrawl/crawl-data/x.warc.gz',
  language: i % 11 === 0 ? null : 'en',
  languageScore: i % 5 === 0 ? null : 0.5 + i / 1000,
  tokenCount: i % 6 === 0 ? null : 10 + i,
}));

function asDoc({ filePath: _ignored, ...doc }: FineWebRow): FineWebDoc {
  return doc;
}

async function rewriteWithArrowRs(codec: (typeof CODECS)[number]): Promise<string> {
  const properties = new WriterPropertiesBuilder().setCompression(Compression[codec]).setMaxRowGroupSize(30).build();
  const path = join(dir, `arrow-rs-${codec}.parquet`);
  await writeFile(path, writeParquet(readParquet(hyparquetShard), properties));
  return path;
}

describe('readFineWebShard on shards another writer made', () => {
  it.each(CODECS)('reads a %s shard written by arrow-rs', async (codec) => {
    const path = await rewriteWithArrowRs(codec);
    const bytes = new Uint8Array(await readFile(path));
    const metadata = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    expect(metadata.created_by).toMatch(/parquet-rs/);
    expect(metadata.row_groups.length).toBe(4);
    const codecs = new Set(metadata.row_groups.flatMap((g) => g.columns.map((c) => c.meta_data?.codec)));
    expect([...codecs]).toEqual([codec]);

    const docs: FineWebDoc[] = [];
    for await (const batch of readFineWebShard(path, { batchRows: 25 })) docs.push(...batch);
    expect(docs).toEqual(ROWS.map(asDoc));
  });
});
