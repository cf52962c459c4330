import { statSync } from 'node:fs';
import type { BlobFiles } from '../blob-files';
import type { SqlExecutor } from '../sql-driver';
import type { KeptBody } from '../store';
import { num, placeholders, str, strOrNull } from './row-values';
import type { TransactionBodies } from './transaction-bodies';

/**
 * A kept body no check can still need: a validated result of a closed task, either verified (no
 * later failure revokes it) or in a settled epoch (revocation stops there). Rejected results and
 * the second copy of an agreed result lose their bodies when they are decided; a pending result
 * (waiting for its replica or a re-computation) keeps its body. `?` is the last settled epoch.
 */
const PRUNABLE = `r.status = 'validated' AND (r.body IS NOT NULL OR r.body_path IS NOT NULL)
  AND (r.unverified = 0 OR r.epoch <= ?)
  AND EXISTS (SELECT 1 FROM tasks t WHERE t.task_id = r.task_id AND t.state = 'validated')`;

/** Retention of result bodies (`service/result-retention.ts` decides which; this finds and frees them). */
export class BodyRetentionRows {
  constructor(
    private readonly ex: SqlExecutor,
    private readonly blobs: BlobFiles | null,
    private readonly bodies: TransactionBodies,
  ) {}

  async prunableResultBodies(q: { settledEpoch: number; submittedBeforeMs: number | null; limit: number }): Promise<KeptBody[]> {
    const before = q.submittedBeforeMs === null ? '' : ' AND r.submitted_at_ms < ?';
    const rows = await this.ex.all(
      `SELECT r.task_id, r.miner, r.submitted_at_ms, r.body_path, length(r.body) AS body_bytes FROM results r
       WHERE ${PRUNABLE}${before} ORDER BY r.submitted_at_ms DESC, r.task_id, r.miner LIMIT ?`,
      [q.settledEpoch, ...(q.submittedBeforeMs === null ? [] : [q.submittedBeforeMs]), q.limit],
    );
    return rows.map((r) => ({
      taskId: str(r.task_id),
      miner: str(r.miner),
      submittedAtMs: num(r.submitted_at_ms),
      bytes: this.bytesOf(strOrNull(r.body_path), r.body_bytes),
    }));
  }

  async pruneResultBody(taskId: string, miner: string, settledEpoch: number): Promise<boolean> {
    const rows = await this.ex.all(`SELECT r.body_path FROM results r WHERE r.task_id = ? AND r.miner = ? AND ${PRUNABLE}`, [
      taskId,
      miner,
      settledEpoch,
    ]);
    if (!rows[0]) return false;
    // Asked again as the row is changed: a revocation committed in between must win.
    const changed = await this.ex.run(
      `UPDATE results AS r SET body = NULL, body_path = NULL WHERE r.task_id = ? AND r.miner = ? AND ${PRUNABLE}`,
      [taskId, miner, settledEpoch],
    );
    if (changed === 0) return false;
    const path = strOrNull(rows[0].body_path);
    if (path) this.bodies.removeAfterCommit(path);
    return true;
  }

  async forgetSettledTasks(q: { settledEpoch: number; limit: number }): Promise<number> {
    const rows = await this.ex.all(
      `SELECT t.task_id FROM tasks t WHERE t.state IN ('validated', 'failed', 'requeued')
       AND NOT EXISTS (SELECT 1 FROM results r WHERE r.task_id = t.task_id
         AND (r.body IS NOT NULL OR r.body_path IS NOT NULL OR r.status = 'pending'
              OR (r.status = 'validated' AND (r.epoch IS NULL OR r.epoch > ?))))
       ORDER BY t.created_at_ms, t.task_id LIMIT ?`,
      [q.settledEpoch, q.limit],
    );
    const ids = rows.map((r) => str(r.task_id));
    if (ids.length === 0) return 0;
    for (const table of ['task_docs', 'task_variants', 'leases', 'results', 'tasks'])
      await this.ex.run(`DELETE FROM ${table} WHERE task_id IN (${placeholders(ids)})`, ids);
    return ids.length;
  }

  private bytesOf(path: string | null, databaseBytes: unknown): number {
    if (!path || !this.blobs) return databaseBytes === null || databaseBytes === undefined ? 0 : num(databaseBytes);
    try {
      return statSync(this.blobs.absolute(path)).size;
    } catch {
      return 0;
    }
  }
}
