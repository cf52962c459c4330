import type { BlobFiles } from '../blob-files';
import type { SqlExecutor } from '../sql-driver';

const bodyKey = (taskId: string, miner: string) => `${taskId}\n${miner}`;

/**
 * The result bodies one transaction keeps or frees, applied at its edges. Bodies are written just
 * before COMMIT (`path` for a file, null for the database), so one dropped in the same
 * transaction, like a second copy of an agreed result, is never written at all. Files it frees are
 * removed after it commits; files it wrote are removed if it rolls back.
 */
export class TransactionBodies {
  private readonly pending = new Map<string, { taskId: string; miner: string; path: string | null; body: Uint8Array }>();
  private readonly afterCommit: (() => void)[] = [];
  private readonly onRollback: (() => void)[] = [];

  constructor(
    private readonly ex: SqlExecutor,
    private readonly blobs: BlobFiles | null,
  ) {}

  write(taskId: string, miner: string, path: string | null, body: Uint8Array): void {
    this.pending.set(bodyKey(taskId, miner), { taskId, miner, path, body });
  }

  /** A body this transaction will write, if any. */
  unwritten(taskId: string, miner: string): Uint8Array | null {
    return this.pending.get(bodyKey(taskId, miner))?.body ?? null;
  }

  /** Forgets a body not written yet; false when there was none. */
  cancel(taskId: string, miner: string): boolean {
    return this.pending.delete(bodyKey(taskId, miner));
  }

  removeAfterCommit(path: string): void {
    const blobs = this.blobs;
    if (blobs) this.afterCommit.push(() => blobs.remove(path));
  }

  removeOnRollback(path: string): void {
    const blobs = this.blobs;
    if (blobs) this.onRollback.push(() => blobs.remove(path));
  }

  /** Writes the bodies the transaction still keeps; runs inside it, just before COMMIT. */
  async flush(): Promise<void> {
    const blobs = this.blobs;
    for (const { taskId, miner, path, body } of this.pending.values()) {
      if (path && blobs) {
        blobs.write(path, body);
        this.removeOnRollback(path);
      } else await this.ex.run('UPDATE results SET body = ? WHERE task_id = ? AND miner = ?', [body, taskId, miner]);
    }
    this.pending.clear();
  }

  committed(): void {
    for (const done of this.afterCommit) done();
  }

  rolledBack(): void {
    for (const undo of this.onRollback) undo();
  }
}
