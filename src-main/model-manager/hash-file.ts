import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';

/** Feeds a file through `hash` in 1 MiB reads: gigabytes of weights never sit in memory. */
export async function hashFile(path: string, hash: Hash = createHash('sha256')): Promise<Hash> {
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash;
}

/**
 * `<file>.sha256` beside a file records that it was verified against that hash, so later runs
 * trust it (with the size checked) instead of re-reading gigabytes.
 */
export async function readStamp(path: string): Promise<string | null> {
  return readFile(`${path}.sha256`, 'utf8').then(
    (text) => text.trim(),
    () => null,
  );
}

export async function writeStamp(path: string, sha256: string): Promise<void> {
  await writeFile(`${path}.sha256`, `${sha256}\n`);
}
