import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asyncBufferFromFile, parquetMetadataAsync, parquetSchema } from 'hyparquet';
import { estimateGpt2Tokens } from '../../src-validator/fineweb/gpt2-token-estimate';
import { readFineWebShard, type FineWebDoc } from '../../src-validator/fineweb/read-shard';
import { generateSampleShard, loadSampleLines, type SampleLine } from '../../src-validator/fineweb/sample-shard';

const sampleDir = resolve(__dirname, '../../assets/fineweb-sample');
let dir: string;
let lines: SampleLine[];
let shardPath: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nya-sample-'));
  lines = (await loadSampleLines(sampleDir)).lines;
  shardPath = join(dir, 'sample-000.parquet');
  await generateSampleShard(sampleDir, shardPath);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function readDocs(path: string): Promise<FineWebDoc[]> {
  const docs: FineWebDoc[] = [];
  for await (const batch of readFineWebShard(path)) docs.push(...batch);
  return docs;
}

describe('the bundled FineWeb-format sample', () => {
  it('has FineWeb’s columns and types, in several row groups', async () => {
    const metadata = await parquetMetadataAsync(await asyncBufferFromFile(shardPath));
    const columns = parquetSchema(metadata).children.map((c) => [c.element.name, c.element.type]);
    expect(columns).toEqual([
      ['text', 'BYTE_ARRAY'],
      ['id', 'BYTE_ARRAY'],
      ['dump', 'BYTE_ARRAY'],
      ['url', 'BYTE_ARRAY'],
      ['date', 'BYTE_ARRAY'],
      ['file_path', 'BYTE_ARRAY'],
      ['language', 'BYTE_ARRAY'],
      ['language_score', 'DOUBLE'],
      ['token_count', 'INT64'],
    ]);
    expect(metadata.row_groups.length).toBeGreaterThan(1);
    expect(Number(metadata.num_rows)).toBe(lines.length);
  });

  it('round-trips every document of the JSONL files', async () => {
    const docs = await readDocs(shardPath);
    expect(docs.map(({ tokenCount: _t, ...doc }) => doc)).toEqual(
      lines.map((l) => ({
        id: l.id,
        text: l.text,
        url: l.url,
        dump: l.dump,
        date: l.date,
        language: l.language,
        languageScore: l.language_score,
      })),
    );
    expect(docs.map((d) => d.tokenCount)).toEqual(lines.map((l) => estimateGpt2Tokens(l.text)));
  });

  it('is varied: hundreds of unique documents, long ones, code, CJK and emoji', () => {
    expect(lines.length).toBeGreaterThanOrEqual(200);
    expect(lines.length).toBeLessThanOrEqual(400);
    expect(new Set(lines.map((l) => l.id)).size).toBe(lines.length);
    expect(lines.filter((l) => estimateGpt2Tokens(l.text) > 1024).length).toBeGreaterThanOrEqual(5);
    expect(lines.some((l) => /\p{Script=Han}/u.test(l.text))).toBe(true);
    expect(lines.some((l) => /\p{Script=Hangul}/u.test(l.text))).toBe(true);
    expect(lines.some((l) => /\p{Extended_Pictographic}/u.test(l.text))).toBe(true);
    expect(lines.some((l) => /^\s{4}(def|fn|SELECT|const|export) /m.test(l.text))).toBe(true);
    for (const l of lines) expect(l.id).toMatch(/^<urn:uuid:[0-9a-f-]{36}>$/);
  });

  it('is deterministic and skips work when the shard is current', async () => {
    const again = join(dir, 'again.parquet');
    expect((await generateSampleShard(sampleDir, again)).written).toBe(true);
    expect((await readFile(again)).equals(await readFile(shardPath))).toBe(true);

    const before = await stat(again);
    expect((await generateSampleShard(sampleDir, again)).written).toBe(false);
    expect((await stat(again)).mtimeMs).toBe(before.mtimeMs);
    // A different generator (the build passes its own bundle) regenerates.
    expect((await generateSampleShard(sampleDir, again, 'generator v2')).written).toBe(true);
  });

  it('regenerates when a document changes, and names a bad line', async () => {
    const copy = join(dir, 'assets');
    await rm(copy, { recursive: true, force: true });
    await mkdir(copy);
    for (const name of await readdir(sampleDir)) {
      if (name.endsWith('.jsonl')) await copyFile(join(sampleDir, name), join(copy, name));
    }
    const out = join(dir, 'copy.parquet');
    await generateSampleShard(copy, out);
    await writeFile(join(copy, 'zz-extra.jsonl'), `${JSON.stringify({ ...lines[0], id: '<urn:uuid:extra>' })}\n`);
    expect(await generateSampleShard(copy, out)).toMatchObject({ written: true, rows: lines.length + 1 });

    await writeFile(join(copy, 'zz-extra.jsonl'), '{"id": "x", "text": "ok"}\n{"id": "y"}\n');
    await expect(generateSampleShard(copy, out)).rejects.toThrow('zz-extra.jsonl:2: "text" must be a non-empty string');
  });
});

describe('estimateGpt2Tokens', () => {
  it('matches GPT-2 on plain English', () => {
    // GPT-2's own counts: 4 and 10 tokens.
    expect(estimateGpt2Tokens('Hello, world!')).toBe(4);
    expect(estimateGpt2Tokens('The quick brown fox jumps over the lazy dog.')).toBe(10);
  });

  it('charges more for long words and non-Latin text', () => {
    expect(estimateGpt2Tokens(' internationalisation')).toBeGreaterThan(1);
    expect(estimateGpt2Tokens('你好，世界')).toBeGreaterThan(estimateGpt2Tokens('hello world'));
    expect(estimateGpt2Tokens('')).toBe(0);
  });
});
