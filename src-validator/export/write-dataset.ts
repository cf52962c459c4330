import { mkdir, readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../../src-node/atomic-write';
import { renderDatasetCard } from './dataset-card';
import { DatasetShardWriter } from './dataset-shard-writer';
import { checkExportRecord, type ExportRecord } from './export-record';
import { buildManifest, DEFAULT_MODEL_NAME, type ShardEntry } from './manifest';

export type { ExportRecord } from './export-record';

export interface WriteDatasetOptions {
  /** Rows per shard file (default 4096: about 250 MB at 1024 positions and k = 16). */
  shardRows?: number;
  /** Rows written so far; called after each row group, each shard and at the end. */
  onProgress?: (rows: number) => void;
  modelName?: string;
  createdAtMs?: number;
}

export interface WrittenDataset {
  /** Absolute paths of the shard files, in order (`manifestPath` is absolute too). */
  shards: string[];
  rows: number;
  manifestPath: string;
}

const DEFAULT_SHARD_ROWS = 4096;
const SHARD_FILE = /^data-\d{5,}\.parquet$/;

function shardFileName(index: number): string {
  return `data-${String(index).padStart(5, '0')}.parquet`;
}

interface ClosedShard {
  writer: DatasetShardWriter;
  entry: ShardEntry;
}

/**
 * Writes validated soft labels as the open data set: Parquet shards, `manifest.json` and a
 * Hugging Face dataset card (`README.md`) in `outDir`. Shards are written under temporary names
 * and only published when every record has been written, so a failed export (a bad record, a
 * full disk) leaves an earlier export in the directory as it was. Publishing removes the old
 * manifest first and writes the new one last: a crash in between leaves no manifest, which
 * reads as "incomplete", never a manifest that lies about the shards beside it.
 */
export async function writeDataset(
  outDirArg: string,
  records: AsyncIterable<ExportRecord>,
  opts: WriteDatasetOptions = {},
): Promise<WrittenDataset> {
  const outDir = resolve(outDirArg);
  const shardRows = opts.shardRows ?? DEFAULT_SHARD_ROWS;
  if (!Number.isInteger(shardRows) || shardRows < 1) {
    throw new RangeError(`shardRows is ${shardRows}; it must be a positive integer.`);
  }
  await mkdir(outDir, { recursive: true });
  const closed: ClosedShard[] = [];
  const modelHashes = new Set<string>();
  const variants = new Set<string>();
  let open: DatasetShardWriter | null = null;
  let rows = 0;
  let positions = 0;
  try {
    for await (const record of records) {
      checkExportRecord(record);
      open ??= await DatasetShardWriter.open(join(outDir, shardFileName(closed.length)));
      const wroteRowGroup = await open.add(record);
      rows++;
      positions += record.tokenIds.length;
      modelHashes.add(record.modelHash);
      if (record.variant !== null) variants.add(record.variant);
      if (open.rows === shardRows) {
        closed.push(await closeShard(open, closed.length));
        open = null;
      }
      if (wroteRowGroup || open === null) opts.onProgress?.(rows);
    }
    if (open) closed.push(await closeShard(open, closed.length));
    open = null;
  } catch (err) {
    await open?.abort();
    for (const shard of closed) await shard.writer.abort();
    throw err;
  }

  const manifest = buildManifest({
    modelName: opts.modelName ?? DEFAULT_MODEL_NAME,
    modelHashes,
    variants,
    createdAtMs: opts.createdAtMs ?? Date.now(),
    positions,
    shards: closed.map((shard) => shard.entry),
  });
  const manifestPath = join(outDir, 'manifest.json');
  await rm(manifestPath, { force: true });
  for (const shard of closed) await shard.writer.publish();
  // Published data: world-readable, like the shards.
  await writeFileAtomic(join(outDir, 'README.md'), renderDatasetCard(manifest), 0o644);
  await writeFileAtomic(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`, 0o644);
  await removeStaleShards(outDir, new Set(manifest.shards.map((s) => s.name)));
  opts.onProgress?.(rows);
  return { shards: closed.map((shard) => join(outDir, shard.entry.name)), rows, manifestPath };
}

async function closeShard(writer: DatasetShardWriter, index: number): Promise<ClosedShard> {
  const rows = writer.rows;
  const file = await writer.finish();
  return { writer, entry: { name: shardFileName(index), rows, bytes: file.bytes, sha256: file.sha256 } };
}

/** Shards of an earlier, larger export would otherwise sit beside the manifest unlisted. */
async function removeStaleShards(outDir: string, current: Set<string>): Promise<void> {
  for (const name of await readdir(outDir)) {
    if (SHARD_FILE.test(name) && !current.has(name)) await rm(join(outDir, name), { force: true });
  }
}
