import { open, type FileHandle } from 'node:fs/promises';
import type { AsyncBuffer } from 'hyparquet';

export interface FileAsyncBuffer extends AsyncBuffer {
  close(): Promise<void>;
}

/**
 * hyparquet's random-access view of a local file, backed by one open handle. Only the byte
 * ranges hyparquet asks for (footer, then one row group's column chunks) are ever in memory,
 * which is what lets a 2 GB FineWeb shard stream in constant space. hyparquet's own
 * `asyncBufferFromFile` opens a new read stream per slice; one handle is cheaper and lets the
 * caller close it deterministically.
 */
export async function openFileAsyncBuffer(path: string): Promise<FileAsyncBuffer> {
  const handle: FileHandle = await open(path, 'r');
  try {
    const stats = await handle.stat();
    // Opening a directory succeeds on Linux; fail here, as Windows does, not on the first read.
    if (stats.isDirectory()) throw Object.assign(new Error(`${path} is a directory`), { code: 'EISDIR' });
    const size = stats.size;
    return {
      byteLength: size,
      slice: (start, end) => readRange(handle, start, Math.min(end ?? size, size)),
      close: () => handle.close(),
    };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

async function readRange(handle: FileHandle, start: number, end: number): Promise<ArrayBuffer> {
  const bytes = new Uint8Array(Math.max(0, end - start));
  let filled = 0;
  while (filled < bytes.length) {
    const { bytesRead } = await handle.read(bytes, filled, bytes.length - filled, start + filled);
    // The file shrank under us; hand back what exists so the parser reports a truncated file.
    if (bytesRead === 0) return bytes.buffer.slice(0, filled);
    filled += bytesRead;
  }
  return bytes.buffer;
}
