import { createHash, type Hash } from 'node:crypto';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ByteWriter } from 'hyparquet-writer';
import { fsyncDirAsync } from '../../src-node/atomic-write';

export interface WrittenFile {
  path: string;
  bytes: number;
  /** Lowercase hex SHA-256 of the whole file, hashed as it was written. */
  sha256: string;
}

/**
 * A hyparquet-writer `Writer` that streams to `<path>.tmp-<pid>` and becomes `path` only on
 * publish, so a crash or a failed export never leaves a torn shard under the real name.
 * ParquetWriter calls `flush()` after every row group and awaits it, so at most one row group
 * is in memory; the SHA-256 for the manifest is computed on the way out instead of re-reading.
 */
export class ParquetFileSink extends ByteWriter {
  private readonly hash: Hash = createHash('sha256');
  private bytesWritten = 0;

  private constructor(
    readonly path: string,
    private readonly tmpPath: string,
    private readonly handle: FileHandle,
  ) {
    super(1 << 20);
  }

  static async create(path: string): Promise<ParquetFileSink> {
    const tmpPath = `${path}.tmp-${process.pid}`;
    return new ParquetFileSink(path, tmpPath, await open(tmpPath, 'w', 0o644));
  }

  async flush(): Promise<void> {
    const chunk = new Uint8Array(this.buffer, 0, this.index);
    let written = 0;
    while (written < chunk.length) {
      const { bytesWritten } = await this.handle.write(chunk, written, chunk.length - written, this.bytesWritten + written);
      written += bytesWritten;
    }
    this.hash.update(chunk);
    this.bytesWritten += chunk.length;
    this.index = 0;
  }

  override finish(): Promise<void> {
    return this.flush();
  }

  /** Makes the temporary file durable and closes it. Call after ParquetWriter.finish() settled. */
  async close(): Promise<WrittenFile> {
    await this.handle.sync();
    await this.handle.close();
    return { path: this.path, bytes: this.bytesWritten, sha256: this.hash.digest('hex') };
  }

  /** Moves the closed file to its real name, durably. */
  async publish(): Promise<void> {
    await rename(this.tmpPath, this.path);
    await fsyncDirAsync(dirname(this.path));
  }

  /** Drops the temporary file; the real name is never touched. */
  async abort(): Promise<void> {
    await this.handle.close().catch(() => undefined);
    await rm(this.tmpPath, { force: true });
  }
}
