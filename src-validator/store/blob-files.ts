import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';

/**
 * Result bodies as files beside the SQLite database. A megabyte blob in SQLite is written twice
 * (WAL, then checkpoint) and measured 12-23 ms here; a file write is a copy into the page cache.
 * Durability matches the database's (WAL, synchronous=NORMAL): a process crash loses nothing,
 * an OS crash may lose the last seconds. PostgreSQL keeps bodies in the database instead, so
 * several validator processes see them.
 */
export class BlobFiles {
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  /** A relative path, unique per (task, miner). */
  pathOf(taskId: string, miner: string, suffix = ''): string {
    const name = createHash('sha256').update(`${taskId}\n${miner}`).digest('hex');
    return join(name.slice(0, 2), `${name.slice(2, 40)}${suffix}.nysb`);
  }

  /**
   * A fresh file name for a body written ahead of its transaction (by a check worker). Unique per
   * call: two concurrent submissions of one (task, miner) must never share a file, since only one
   * of them is stored and the other's file is removed.
   */
  stagingPath(taskId: string, miner: string): string {
    return join(this.dir, this.pathOf(taskId, miner, `-${randomBytes(6).toString('hex')}`));
  }

  /** The relative path of a file under this folder; throws for anything outside it. */
  relativeOf(path: string): string {
    const rel = relative(this.dir, path);
    if (!rel || rel.startsWith('..') || isAbsolute(rel)) throw new Error(`${path} is not inside ${this.dir}`);
    return rel;
  }

  absolute(relativePath: string): string {
    return join(this.dir, relativePath);
  }

  write(relative: string, body: Uint8Array): void {
    const path = join(this.dir, relative);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, body);
  }

  read(relative: string): Uint8Array {
    return readFileSync(join(this.dir, relative));
  }

  remove(relative: string): void {
    rmSync(join(this.dir, relative), { force: true });
  }
}
