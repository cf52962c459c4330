import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { parquetMetadataAsync } from 'hyparquet';
import { openFileAsyncBuffer } from './file-async-buffer';
import { estimateGpt2Tokens } from './gpt2-token-estimate';
import type { FineWebRow } from './write-shard';
import { writeFineWebShard } from './write-shard';

const SOURCE_HASH_KEY = 'nya.sample.source_sha256';
/** Small row groups so the sample exercises multi-group streaming like a real 1000-row-group shard. */
const SAMPLE_ROW_GROUP_ROWS = 100;

export interface SampleLine {
  id: string;
  url: string | null;
  text: string;
  dump: string | null;
  date: string | null;
  language: string | null;
  language_score: number | null;
}

/** Parses one JSONL line of assets/fineweb-sample, naming the file and line when it is wrong. */
function parseSampleLine(line: string, where: string): SampleLine {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    throw new Error(`${where}: not JSON (${(err as Error).message})`);
  }
  const v = value as Record<string, unknown>;
  const str = (key: string, required: boolean): string | null => {
    const x = v[key];
    if (typeof x === 'string' && (x.length > 0 || !required)) return x;
    if (!required && (x === null || x === undefined)) return null;
    throw new Error(`${where}: "${key}" must be ${required ? 'a non-empty string' : 'a string or null'}`);
  };
  const score = v['language_score'];
  if (score !== null && score !== undefined && typeof score !== 'number') {
    throw new Error(`${where}: "language_score" must be a number or null`);
  }
  return {
    id: str('id', true)!,
    text: str('text', true)!,
    url: str('url', false),
    dump: str('dump', false),
    date: str('date', false),
    language: str('language', false),
    language_score: score ?? null,
  };
}

/** A Common Crawl WARC path of the shape FineWeb records, stable per document. */
function warcPath(dump: string | null, id: string): string {
  const crawl = dump ?? 'CC-MAIN-2024-10';
  const n = parseInt(createHash('sha256').update(id).digest('hex').slice(0, 6), 16);
  const file = String(n % 80000).padStart(5, '0');
  return `s3://commoncrawl/crawl-data/${crawl}/segments/1707947473347.${n % 100}/warc/CC-MAIN-20240220211055-20240221001055-${file}.warc.gz`;
}

function toFineWebRow(line: SampleLine): FineWebRow {
  return {
    id: line.id,
    text: line.text,
    url: line.url,
    dump: line.dump,
    date: line.date,
    filePath: warcPath(line.dump, line.id),
    language: line.language,
    languageScore: line.language_score,
    tokenCount: estimateGpt2Tokens(line.text),
  };
}

/**
 * Every `*.jsonl` in the folder, files in name order, lines in file order. `sourceSha256` covers
 * the files and `generatorFingerprint` (the build passes its own bundle), so a change to either
 * regenerates the shard.
 */
export async function loadSampleLines(
  sampleDir: string,
  generatorFingerprint = '',
): Promise<{ lines: SampleLine[]; sourceSha256: string }> {
  const files = (await readdir(sampleDir)).filter((name) => name.endsWith('.jsonl')).sort();
  const hash = createHash('sha256').update(generatorFingerprint).update('\n');
  const lines: SampleLine[] = [];
  for (const name of files) {
    const content = await readFile(join(sampleDir, name), 'utf8');
    hash.update(`${name}\n`).update(content);
    content.split('\n').forEach((line, i) => {
      if (line.trim()) lines.push(parseSampleLine(line, `${name}:${i + 1}`));
    });
  }
  if (lines.length === 0) throw new Error(`${sampleDir} holds no sample documents (*.jsonl).`);
  return { lines, sourceSha256: hash.digest('hex') };
}

async function recordedSourceHash(path: string): Promise<string | undefined> {
  const file = await openFileAsyncBuffer(path).catch(() => undefined);
  if (!file) return undefined;
  try {
    const metadata = await parquetMetadataAsync(file);
    return metadata.key_value_metadata?.find((kv) => kv.key === SOURCE_HASH_KEY)?.value;
  } catch {
    return undefined; // unreadable or torn: regenerate
  } finally {
    await file.close();
  }
}

/**
 * Writes the FineWeb-format sample shard from the JSONL documents, unless `outPath` already holds
 * the shard of exactly these inputs (their hash is stored in the file's key-value metadata).
 */
export async function generateSampleShard(
  sampleDir: string,
  outPath: string,
  generatorFingerprint = '',
): Promise<{ written: boolean; rows: number; path: string }> {
  const { lines, sourceSha256 } = await loadSampleLines(sampleDir, generatorFingerprint);
  if ((await recordedSourceHash(outPath)) === sourceSha256) {
    return { written: false, rows: lines.length, path: outPath };
  }
  await mkdir(dirname(outPath), { recursive: true });
  await writeFineWebShard(outPath, lines.map(toFineWebRow), {
    rowGroupRows: SAMPLE_ROW_GROUP_ROWS,
    kvMetadata: [
      { key: SOURCE_HASH_KEY, value: sourceSha256 },
      { key: 'nya.sample.source', value: `assets/${basename(sampleDir)}` },
    ],
  });
  return { written: true, rows: lines.length, path: outPath };
}
