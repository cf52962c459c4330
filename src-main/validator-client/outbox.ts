import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { TaskId } from '../../src-shared/protocol';
import { fsyncDirAsync, writeFileAtomic } from '../../src-node/atomic-write';
import { errorMessage, type Logger } from '../../src-node/log';

/**
 * Results on disk until the validator acknowledges them. Each result is two files in
 * `<dataDir>/outbox/`: `<name>.json` (task id, tokens, size, SHA-256) and `<name>.bin` (the
 * result bundle, byte for byte what is POSTed). The meta file is written first and the bundle
 * last, each atomically (temp file, fsync, rename, fsync the folder), so a `.bin` on disk is the
 * commit mark: a crash before it leaves a lone `.json` that start-up clears (its `submit` never
 * returned, so the miner never counted it), and nothing half-written is ever sent.
 */
export interface OutboxEntry {
  taskId: string;
  tokens: number;
  createdAtMs: number;
  bytes: number;
  sha256Hex: string;
}

const EntryMeta = z.object({
  version: z.literal(1),
  taskId: TaskId,
  tokens: z.number().int().nonnegative(),
  createdAtMs: z.number().int(),
  bytes: z.number().int().nonnegative(),
  sha256Hex: z.string().regex(/^[0-9a-f]{64}$/),
});

/** A queued result that no longer reads back as it was written. */
class CorruptOutboxEntry extends Error {
  constructor(
    readonly taskId: string,
    detail: string,
  ) {
    super(`The queued result for task ${taskId} is damaged on disk (${detail}).`);
    this.name = 'CorruptOutboxEntry';
  }
}

// Task ids may hold ':' (TaskId allows it), which Windows file names cannot; '~' is outside
// TaskId's alphabet, so the mapping is reversible.
const fileStem = (taskId: string) => taskId.replaceAll(':', '~');
const taskIdOf = (stem: string) => stem.replaceAll('~', ':');

function sha256HexOf(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export class Outbox {
  readonly dir: string;
  private readonly corruptDir: string;
  private readonly entries = new Map<string, OutboxEntry>();

  constructor(
    dataDir: string,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.dir = join(dataDir, 'outbox');
    this.corruptDir = join(this.dir, 'corrupt');
  }

  get size(): number {
    return this.entries.size;
  }

  /** Oldest first: results go out in the order they were computed. */
  list(): OutboxEntry[] {
    return [...this.entries.values()].sort((a, b) => a.createdAtMs - b.createdAtMs);
  }

  /** Loads what a previous run left; damaged entries are moved to `outbox/corrupt/`, never fatal. */
  async scan(): Promise<{ queued: number; corrupt: number }> {
    await mkdir(this.dir, { recursive: true });
    const names = await readdir(this.dir);
    const bins = new Set(names.filter((n) => n.endsWith('.bin')).map((n) => n.slice(0, -4)));
    const metas = new Set(names.filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5)));
    let corrupt = 0;
    for (const name of names.filter((n) => n.includes('.tmp-'))) await rm(join(this.dir, name), { force: true });
    for (const stem of metas) {
      if (!bins.has(stem)) {
        // Crashed between the two writes: the result was never handed over, nothing to keep.
        await rm(join(this.dir, `${stem}.json`), { force: true });
        this.log.debug(`outbox: cleared the unfinished entry ${stem}`);
      }
    }
    for (const stem of bins) {
      try {
        const entry = await this.readMeta(stem);
        await this.readBundle(entry);
        this.entries.set(entry.taskId, entry);
      } catch (error) {
        corrupt += 1;
        await this.quarantine(stem, errorMessage(error));
      }
    }
    return { queued: this.entries.size, corrupt };
  }

  /** Resolves once the result is on disk and will survive a crash or power loss. */
  async put(taskId: string, bundle: Uint8Array, tokens: number): Promise<OutboxEntry> {
    const entry: OutboxEntry = { taskId, tokens, createdAtMs: this.now(), bytes: bundle.length, sha256Hex: sha256HexOf(bundle) };
    const stem = fileStem(taskId);
    await mkdir(this.dir, { recursive: true });
    await writeFileAtomic(join(this.dir, `${stem}.json`), Buffer.from(JSON.stringify({ version: 1, ...entry })));
    await writeFileAtomic(join(this.dir, `${stem}.bin`), bundle);
    this.entries.set(taskId, entry);
    return entry;
  }

  /** The bundle as queued; throws CorruptOutboxEntry when it no longer matches its checksum. */
  async read(entry: OutboxEntry): Promise<Uint8Array> {
    return this.readBundle(entry);
  }

  /** Drops an acknowledged result: the `.bin` (the commit mark) goes first. */
  async remove(taskId: string): Promise<void> {
    const stem = fileStem(taskId);
    this.entries.delete(taskId);
    await rm(join(this.dir, `${stem}.bin`), { force: true });
    await rm(join(this.dir, `${stem}.json`), { force: true });
    await fsyncDirAsync(this.dir);
  }

  /** Moves a damaged entry aside (kept for inspection, never sent) and forgets it. */
  async quarantine(stemOrTaskId: string, reason: string): Promise<void> {
    const stem = fileStem(stemOrTaskId);
    this.entries.delete(taskIdOf(stem));
    await mkdir(this.corruptDir, { recursive: true });
    const stamp = this.now();
    for (const ext of ['bin', 'json']) {
      try {
        await rename(join(this.dir, `${stem}.${ext}`), join(this.corruptDir, `${stem}.${stamp}.${ext}`));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    this.log.error(`outbox: the queued result ${stem} is damaged (${reason}); moved to ${this.corruptDir}, it will not be sent`);
  }

  private async readMeta(stem: string): Promise<OutboxEntry> {
    let json: unknown;
    try {
      json = JSON.parse(await readFile(join(this.dir, `${stem}.json`), 'utf8'));
    } catch (error) {
      throw new CorruptOutboxEntry(taskIdOf(stem), `meta file unreadable: ${errorMessage(error)}`);
    }
    const meta = EntryMeta.safeParse(json);
    if (!meta.success || meta.data.taskId !== taskIdOf(stem)) {
      throw new CorruptOutboxEntry(taskIdOf(stem), 'meta file is not an outbox entry for this task');
    }
    const { version: _version, ...entry } = meta.data;
    return entry;
  }

  private async readBundle(entry: OutboxEntry): Promise<Uint8Array> {
    const bytes = new Uint8Array(await readFile(join(this.dir, `${fileStem(entry.taskId)}.bin`)));
    if (bytes.length !== entry.bytes || sha256HexOf(bytes) !== entry.sha256Hex) {
      throw new CorruptOutboxEntry(entry.taskId, `${bytes.length} bytes whose SHA-256 differs from the ${entry.bytes} bytes written`);
    }
    return bytes;
  }
}
