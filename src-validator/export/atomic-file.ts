import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Writes a small file (manifest, dataset card) so a crash leaves the old content or the new,
 * never a torn file: temporary sibling, fsync, rename, fsync of the directory.
 */
export async function writeFileAtomic(path: string, content: string | Uint8Array): Promise<void> {
  const tmpPath = `${path}.tmp-${process.pid}`;
  const handle = await open(tmpPath, 'w', 0o644);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmpPath, path);
  await fsyncDirectory(path);
}

/** Makes a rename inside `dirname(path)` durable. Windows cannot open directories: no-op there. */
export async function fsyncDirectory(path: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(dirname(path), 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
