import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../../src-node/atomic-write';
import type { Logger } from '../../src-node/log';

/** A file on disk with its size, modification time and SHA-256 as of when it was hashed. */
export interface FileDigest {
  path: string;
  bytes: number;
  mtimeMs: number;
  sha256: string;
}

interface CachedDigest {
  bytes: number;
  mtimeMs: number;
  sha256: string;
}

/** A progress line at most this often while hashing: a 15 GB fp16 export takes a minute or more. */
const PROGRESS_EVERY_MS = 5_000;

async function readCache(cachePath: string): Promise<Record<string, CachedDigest>> {
  try {
    const parsed: unknown = JSON.parse(await readFile(cachePath, 'utf8'));
    const files = (parsed as { files?: unknown } | null)?.files;
    return files && typeof files === 'object' ? (files as Record<string, CachedDigest>) : {};
  } catch {
    return {};
  }
}

async function sha256Of(path: string, bytes: number, log: Logger, clock: () => number): Promise<string> {
  const hash = createHash('sha256');
  let done = 0;
  let reportedAt = clock();
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    done += (chunk as Buffer).length;
    if (clock() - reportedAt >= PROGRESS_EVERY_MS) {
      reportedAt = clock();
      log.info(`hashing ${path}: ${(done / 1e9).toFixed(1)} of ${(bytes / 1e9).toFixed(1)} GB`);
    }
  }
  return hash.digest('hex');
}

/**
 * The SHA-256 of each file, read once: a file whose size and modification time match the cache
 * (`cachePath`, in the data folder) keeps its recorded hash, so a restart with 15 GB of weights
 * does not read them again. Whoever replaces a file changes its mtime; one that keeps both is not
 * defended against here, as for the model hash itself (src-main/teacher/model-hash.ts).
 */
export async function fileDigests(paths: string[], cachePath: string, log: Logger, clock: () => number = Date.now): Promise<FileDigest[]> {
  const cache = await readCache(cachePath);
  const out: FileDigest[] = [];
  let changed = false;
  for (const path of paths) {
    const { size: bytes, mtimeMs } = await stat(path);
    const cached = cache[path];
    let sha256 = cached?.bytes === bytes && cached.mtimeMs === mtimeMs ? cached.sha256 : null;
    if (sha256 === null) {
      log.info(`hashing ${path} (${(bytes / 1e9).toFixed(2)} GB)`);
      sha256 = await sha256Of(path, bytes, log, clock);
      cache[path] = { bytes, mtimeMs, sha256 };
      changed = true;
    }
    out.push({ path, bytes, mtimeMs, sha256 });
  }
  if (!changed) return out;
  await mkdir(dirname(cachePath), { recursive: true });
  await writeFileAtomic(cachePath, `${JSON.stringify({ version: 1, files: cache }, null, 1)}\n`);
  return out;
}
