import type { BlobFiles } from '../blob-files';
import type { SqlExecutor, SqlValue } from '../sql-driver';
import type { LedgerRow, ResultStatus, ValidatedResult } from '../store';
import { databaseBody } from './results';
import { num, numOrNull, str, strOrNull } from './row-values';

/** Reads over past results, outside any transaction: a miner's ledger and pending tokens, the validated results to export. */
export class ResultHistory {
  constructor(
    private readonly ex: SqlExecutor,
    private readonly blobs: BlobFiles | null,
  ) {}

  async pendingTokens(miner: string): Promise<number> {
    const rows = await this.ex.all(`SELECT COALESCE(SUM(tokens), 0) AS n FROM results WHERE miner = ? AND status = 'pending'`, [miner]);
    return num(rows[0]!.n);
  }

  async ledger(miner: string, opts: { beforeMs: number | null; beforeTaskId: string | null; limit: number }): Promise<LedgerRow[]> {
    const cursor = opts.beforeMs === null ? '' : ' AND (submitted_at_ms < ? OR (submitted_at_ms = ? AND task_id < ?))';
    const params: SqlValue[] = opts.beforeMs === null ? [miner] : [miner, opts.beforeMs, opts.beforeMs, opts.beforeTaskId ?? ''];
    const rows = await this.ex.all(
      `SELECT task_id, submitted_at_ms, tokens, status, reason, epoch FROM results WHERE miner = ?${cursor}
       ORDER BY submitted_at_ms DESC, task_id DESC LIMIT ?`,
      [...params, opts.limit],
    );
    return rows.map((r) => ({
      taskId: str(r.task_id),
      submittedAtMs: num(r.submitted_at_ms),
      tokens: num(r.tokens),
      status: str(r.status) as ResultStatus,
      reason: strOrNull(r.reason),
      epoch: numOrNull(r.epoch),
    }));
  }

  async validatedResults(afterTaskId: string | null, limit: number, variant: string | null = null): Promise<ValidatedResult[]> {
    const rows = await this.ex.all(
      `SELECT r.task_id, r.miner, r.body_path, t.model_hash, tv.variant, t.k FROM results r JOIN tasks t ON t.task_id = r.task_id
       LEFT JOIN task_variants tv ON tv.task_id = r.task_id
       WHERE r.status = 'validated' AND r.task_id > ? ${variant === null ? '' : 'AND tv.variant = ?'}
         AND r.miner = (SELECT MIN(r2.miner) FROM results r2 WHERE r2.task_id = r.task_id AND r2.status = 'validated'
                          AND (r2.body IS NOT NULL OR r2.body_path IS NOT NULL))
       ORDER BY r.task_id LIMIT ?`,
      [afterTaskId ?? '', ...(variant === null ? [] : [variant]), limit],
    );
    const out: ValidatedResult[] = [];
    for (const r of rows) {
      const [taskId, path] = [str(r.task_id), strOrNull(r.body_path)];
      const body = path && this.blobs ? this.blobs.read(path) : await databaseBody(this.ex, taskId, str(r.miner));
      out.push({ taskId, modelHash: str(r.model_hash), variant: strOrNull(r.variant), k: num(r.k), body: body ?? new Uint8Array(0) });
    }
    return out;
  }
}
