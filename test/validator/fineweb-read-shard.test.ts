import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
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

/**
 * A shard written by pyarrow 25 (what datatrove uses for FineWeb): SNAPPY, dictionary pages,
 * statistics, row groups of 3, gzipped and base64'd to stay small. Made with
 *   rows = [dict(text=f"Doc {i} — pyarrow wrote me. 猫 🐱 ", id=f"<urn:uuid:{i:08d}-0000-4000-8000-000000000000>",
 *     dump="CC-MAIN-2024-10", url=None if i % 7 == 0 else f"https://example.com/{i}", date="2024-02-21T05:12:33Z",
 *     file_path="s3://...", language="en", language_score=None if i % 5 == 0 else 0.5 + i / 100,
 *     token_count=None if i % 6 == 0 else 10 + i) for i in range(8)]
 *   pq.write_table(pa.Table.from_pylist(rows, schema=<FineWeb's>), f, row_group_size=3, store_schema=False)
 */
const PYARROW_SHARD_GZ_BASE64 = [
  'H4sIAAAAAAACA+2Xf2gTZxjH3/fy9nat1SY19+7iOpex5F3qTHL52a5UiyjosJNaZH+I6EJ6tmXNj+XH2jmQMrZ/RtlEimxS3GBl',
  'iJOxuX9E/GPIkP0hIjI2EJFaigMnMgqT/SGy9y659pJ70yaZLSo7kjvyvO893+d577lP3qdvW39AROIDKCZ7RV4ErQB88JUbALAj',
  'FXfKztnxSWf6/Vgmkxp1jmZSOcWZUHzOPya+df715bEfnLZ2EDjVDkDwaDsQgWgXpc3UiZV++bYo8LhVJ8HlnEju6rRsNKomF0fP',
  'POQsLkDDPscthv0F7PTTse58JtmVzw8PdMlrIfBCQfKGZVn2dsIG2GKDYGt/CIBAg+scvQQzIVbYfoOPwhH0queiI/UkG46tkvkG',
  'eckbWKkQcVOvyGmZrN/VQke2b/e+ue2NPd6gHAx7AzKNs1XEJXG2lE2Ryg2aTqOzoAN5VWZA3NFLL6pMcEikA0O5XDrb5fcrY7FE',
  'ekTxxVMJf0AEbznoBJMm5xFZ84MS0xww6Ft4aOGosCyG9TSlA3Y6oIVKFzgY2CdHugLBrlBoPyNXO2uexLQysj4B6UfX3d23kw5l',
  'QzRaGmUilYxnYqMj/gb+J+9ALBfzly2iP6sMJpRkLusP+GT/aCwT94/51Itv8Agj0J0mx9q5ZtfS43LEWI5m0aovBm9XB5QkIxNO',
  'SUr0y7jfKbr0IrJ295/f+PGfe2d6ptNbmn7/eqan3JMk6COSoM/FnIdhZZRLidIaUDiai1ezkj4iCfpcVclsZShRAmYWCHhaJ2Bo',
  'OSq5QWM7CKsMjCzBwEh1DAzVycB0ZQY2QhSqAMFwAYKRaiEYqRWCoScVghQHe/Ql212RgqECBcMH6SnCWCEm8yJsFIZY2f7PwmeN',
  'hQ88Bz679PdMz67bR+zf7bzNYKE+Ign6XJVQZquRUBb9r9OnF62E1oJG2L2uiLOWRSCWFKkktCygb60OROBhWFnlOQ3FAT21/oU9',
  'YbSKPWFHAYVa6qgMhR3VoTBaFQoLC4RgYYGuGAI+zABhtAIIOxpcB0OsgM1I66iVgdHlGViaRLUIRPUhkMog9eEGxagu43i7EgGj',
  'JrEKG8Aom3pRYxVDyNUMPfRfoaenu9LQQ08H9PTlWAJ6aCno6feXQO/eXnX/drtnK93OpbfM9pR7kgR9RBL0uSqFzFbG62AV7Xqk',
  'QputbOO3qGBbIJrNsPEzW40FyWkF6TgbARKfjQ8piZjYCsRmNyehnDKWc4PeNlVLNXDDA8afaCCfSBsNlnxmpHRCLKcYDY2Hh0eU',
  'Q+lYbshoFUZiycF8bHBhahM1rtONh7LxVEahIVLjmlzqHSV5KJ7KJ3MAWx3djikC2sRmRwTwVkchYJHDPJ634PscmYREWIkG3KGu',
  'ORA59QlY6aUb34IO3kEAT6M3BkQXTAvnN4RPWMiHiDzgVquzNsd4kmPGqD1FLcrLEF+F5DpPJqrmqVllP1NErQxNY4rD4xy5IJAb',
  'z9XTR5v19ql6HDIlRStPE5yD+B4kZ5rIjcba+WmWG2Omt1jXmuZJhE8h8rCZXF7zpKLQnNkZCzO1hZdTy2wMj0NyzErmWkrJaHbX',
  'XOKtqeit7K3WfF6B+FdIpm1kzlpbl2wSbTeWAipKGplh0PunlZxvra1XrqyHz2PMEwF/ZAdLEGmeI1MimbCvRD9cD5I+t5AJiTzC',
  'q9Xn1o2kmxvIiQ0rhqTrHP6UI9fayNwL9fSzZr2jFZIqRdKljWT+xVVG0uTL5NZLzyKSTrvIw1ceN5IuuslDV23Nap1IugXxDCQn',
  'XyXXSG3dKlNPSxGPP0+RNGHH05WYRCvCgmc5cq6dfO9ZicbU/AQmC0xCTCYhfN+CP7GQyc3k+Gur1XeaY7zIjlFnEioyadZHpnz1',
  'M6mbKVJkEsJ3IZ6nBSiTu/56uk2z3iZtm8RVYBIqMulskNwMPA4m9THTK2ESKjLpUZj8Enp6mDTFMVMzMgkVmHS8k9zpWI5JQom3',
  'ykxCRSZ98zq501lbL8lmxDJMQvQ9wD9DcreLXOiqrbNkM1AtPXzBjhGFDb66Hnic6Vjm3byS88bTaW8BI+8pmexwKukMRnyyL+CY',
  'os1gpQ/4cR0Afdv6A/8CHquSXrodAAA=',
].join('');

function pyarrowDoc(i: number): FineWebDoc {
  return {
    id: `<urn:uuid:${String(i).padStart(8, '0')}-0000-4000-8000-000000000000>`,
    text: `Doc ${i} — pyarrow wrote me. 猫 🐱 `,
    url: i % 7 === 0 ? null : `https://example.com/${i}`,
    dump: 'CC-MAIN-2024-10',
    date: '2024-02-21T05:12:33Z',
    language: 'en',
    languageScore: i % 5 === 0 ? null : 0.5 + i / 100,
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

  it.runIf(process.platform === 'linux')('closes the file when the reader stops early or fails', async () => {
    const path = join(dir, 'early.parquet');
    await writeFineWebShard(
      path,
      Array.from({ length: 30 }, (_, i) => row(i)),
      { rowGroupRows: 10 },
    );
    const openFds = async () => (await readdir('/proc/self/fd')).length;
    const before = await openFds();
    for await (const batch of readFineWebShard(path, { batchRows: 5 })) {
      expect(batch).toHaveLength(5);
      break;
    }
    expect(await openFds()).toBe(before);
    await writeFile(join(dir, 'not-parquet-early.parquet'), 'x'.repeat(100));
    await readError(join(dir, 'not-parquet-early.parquet'));
    expect(await openFds()).toBe(before);
  });

  it('reads a shard written by pyarrow, as FineWeb is', async () => {
    const path = join(dir, 'pyarrow.parquet');
    await writeFile(path, gunzipSync(Buffer.from(PYARROW_SHARD_GZ_BASE64, 'base64')));
    const batches = await readAll(path, { batchRows: 2 });
    expect(batches.map((b) => b.length)).toEqual([2, 1, 2, 1, 2]);
    expect(batches.flat()).toEqual(Array.from({ length: 8 }, (_, i) => pyarrowDoc(i)));
  });

  it('refuses LZO, the one codec it cannot decode, before reading, naming it', async () => {
    const columnData = [
      { name: 'id', data: ['a'], type: 'STRING' as const },
      { name: 'text', data: ['lzo text'], type: 'STRING' as const },
    ];
    const lzoPath = join(dir, 'lzo.parquet');
    // Pages marked LZO but stored raw: had the reader tried them, it would say 'corrupt'.
    await writeFile(lzoPath, new Uint8Array(parquetWriteBuffer({ columnData, codec: 'LZO', compressors: { LZO: (b) => b } })));
    const err = await readError(lzoPath);
    expect(err.reason).toBe('unsupported-compression');
    expect(err.message).toContain(`${lzoPath} uses LZO compression`);
    expect(err.message).toContain('ZSTD');
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
    const info = await writeFineWebShard(
      path,
      Array.from({ length: 50 }, (_, i) => row(i)),
    );
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
