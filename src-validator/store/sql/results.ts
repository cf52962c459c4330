import { readFileSync } from 'node:fs';
import type { BlobFiles } from '../blob-files';
import type { SqlExecutor, SqlRow } from '../sql-driver';
import type { BodySource, ResultRow, ResultStatus } from '../store';
import { num, numOrNull, str, strOrNull } from './row-values';
import type { TransactionBodies } from './transaction-bodies';

const RESULT_COLUMNS = 'task_id, miner, submitted_at_ms, body_sha256, tokens, status, reason, epoch, unverified, response_json';
// A number rather than a boolean, which SQLite does not have.
const RESULT_SELECT = `${RESULT_COLUMNS}, CASE WHEN body IS NOT NULL OR body_path IS NOT NULL THEN 1 ELSE 0 END AS body_kept`;
const NO_BYTES = new Uint8Array(0);

function resultRow(r: SqlRow): ResultRow {
  return {
    taskId: str(r.task_id),
    miner: str(r.miner),
    submittedAtMs: num(r.submitted_at_ms),
    bodySha256: str(r.body_sha256),
    tokens: num(r.tokens),
    status: str(r.status) as ResultStatus,
    reason: strOrNull(r.reason),
    epoch: numOrNull(r.epoch),
    unverified: num(r.unverified) === 1,
    responseJson: str(r.response_json),
    bodyKept: num(r.body_kept) === 1,
  };
}

/** A body kept in the database (PostgreSQL, or SQLite without result files). */
export function databaseBody(ex: SqlExecutor, taskId: string, miner: string): Promise<Uint8Array | null> {
  return ex.bytes('SELECT body FROM results WHERE task_id = ? AND miner = ?', [taskId, miner]);
}

async function bodyPath(ex: SqlExecutor, taskId: string, miner: string): Promise<string | null> {
  const rows = await ex.all('SELECT body_path FROM results WHERE task_id = ? AND miner = ?', [taskId, miner]);
  return rows[0] ? strOrNull(rows[0].body_path) : null;
}

/** Submitted results, their outcomes and their bodies (files with `blobs`, else in the database). */
export class ResultRows {
  constructor(
    private readonly ex: SqlExecutor,
    private readonly blobs: BlobFiles | null,
    private readonly bodies: TransactionBodies,
  ) {}

  async result(taskId: string, miner: string): Promise<ResultRow | null> {
    const rows = await this.ex.all(`SELECT ${RESULT_SELECT} FROM results WHERE task_id = ? AND miner = ?`, [taskId, miner]);
    return rows[0] ? resultRow(rows[0]) : null;
  }

  async insertResult(row: ResultRow, body: Uint8Array, stagedAt?: string | null): Promise<void> {
    let path: string | null = null;
    if (this.blobs && stagedAt) {
      path = this.blobs.relativeOf(stagedAt);
      this.bodies.removeOnRollback(path);
    } else {
      path = this.blobs ? this.blobs.pathOf(row.taskId, row.miner) : null;
      this.bodies.write(row.taskId, row.miner, path, body);
    }
    // A body bound for the database is an empty placeholder until the transaction writes it, so
    // that the row counts as keeping its body meanwhile.
    await this.ex.run(`INSERT INTO results (${RESULT_COLUMNS}, body, body_path) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
      row.taskId,
      row.miner,
      row.submittedAtMs,
      row.bodySha256,
      row.tokens,
      row.status,
      row.reason,
      row.epoch,
      row.unverified ? 1 : 0,
      row.responseJson,
      path ? null : NO_BYTES,
      path,
    ]);
  }

  async dropResultBody(taskId: string, miner: string): Promise<void> {
    const path = await bodyPath(this.ex, taskId, miner);
    await this.ex.run('UPDATE results SET body = NULL, body_path = NULL WHERE task_id = ? AND miner = ?', [taskId, miner]);
    if (!this.bodies.cancel(taskId, miner) && path) this.bodies.removeAfterCommit(path);
  }

  async setResultResponse(taskId: string, miner: string, responseJson: string): Promise<void> {
    await this.ex.run('UPDATE results SET response_json = ? WHERE task_id = ? AND miner = ?', [responseJson, taskId, miner]);
  }

  async resultsOfTask(taskId: string): Promise<ResultRow[]> {
    return (await this.ex.all(`SELECT ${RESULT_SELECT} FROM results WHERE task_id = ? ORDER BY submitted_at_ms, miner`, [taskId])).map(
      resultRow,
    );
  }

  async resultBody(taskId: string, miner: string): Promise<Uint8Array | null> {
    const source = await this.resultBodySource(taskId, miner);
    return source === null ? null : 'bytes' in source ? source.bytes : readFileSync(source.path);
  }

  async resultBodySource(taskId: string, miner: string): Promise<BodySource | null> {
    const unwritten = this.bodies.unwritten(taskId, miner);
    if (unwritten) return { bytes: unwritten };
    // Without files every body is in the database: no need to ask for a path first.
    if (this.blobs) {
      const path = await bodyPath(this.ex, taskId, miner);
      if (path) return { path: this.blobs.absolute(path) };
    }
    const body = await databaseBody(this.ex, taskId, miner);
    return body ? { bytes: body } : null;
  }

  async setResultOutcome(
    taskId: string,
    miner: string,
    o: { status: ResultStatus; reason: string | null; epoch: number | null; unverified: boolean },
  ): Promise<void> {
    await this.ex.run('UPDATE results SET status = ?, reason = ?, epoch = ?, unverified = ? WHERE task_id = ? AND miner = ?', [
      o.status,
      o.reason,
      o.epoch,
      o.unverified ? 1 : 0,
      taskId,
      miner,
    ]);
  }

  async validatedResultsSince(miner: string, fromEpoch: number, onlyUnverified: boolean): Promise<ResultRow[]> {
    const rows = await this.ex.all(
      `SELECT ${RESULT_SELECT} FROM results WHERE miner = ? AND status = 'validated' AND epoch >= ?${onlyUnverified ? ' AND unverified = 1' : ''}`,
      [miner, fromEpoch],
    );
    return rows.map(resultRow);
  }
}
