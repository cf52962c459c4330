import type { SqlExecutor, SqlRow } from '../sql-driver';
import type { LeaseRow, LeaseState, ReplicaCandidate, TaskDocRow, TaskRow, TaskState } from '../store';
import { num, str, strOrNull } from './row-values';

function taskRow(r: SqlRow): TaskRow {
  return {
    taskId: str(r.task_id),
    createdAtMs: num(r.created_at_ms),
    k: num(r.k),
    seqLen: num(r.seq_len),
    modelHash: str(r.model_hash),
    tokens: num(r.tokens),
    quorum: num(r.quorum),
    state: str(r.state) as TaskState,
  };
}

function leaseRow(r: SqlRow): LeaseRow {
  return {
    taskId: str(r.task_id),
    miner: str(r.miner),
    leasedAtMs: num(r.leased_at_ms),
    deadlineAtMs: num(r.deadline_at_ms),
    state: str(r.state) as LeaseState,
  };
}

/** JSON the database built: SQLite hands its UTF-8 over as bytes, PostgreSQL as text. */
const utf8 = (v: unknown): Buffer => (Buffer.isBuffer(v) ? v : Buffer.from(str(v)));

/** Tasks and the documents each one carries. */
export class TaskRows {
  constructor(private readonly ex: SqlExecutor) {}

  async insertTask(task: TaskRow, variant: string, docs: { docId: string; tokens: number; tokenIdsChecksum: number }[]): Promise<void> {
    await this.ex.run(
      'INSERT INTO tasks (task_id, created_at_ms, k, seq_len, model_hash, tokens, quorum, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      [task.taskId, task.createdAtMs, task.k, task.seqLen, task.modelHash, task.tokens, task.quorum, task.state],
    );
    await this.ex.run('INSERT INTO task_variants (task_id, variant) VALUES (?, ?)', [task.taskId, variant]);
    for (let i = 0; i < docs.length; i++) {
      const d = docs[i]!;
      await this.ex.run('INSERT INTO task_docs (task_id, idx, doc_id, tokens, checksum) VALUES (?, ?, ?, ?, ?)', [
        task.taskId,
        i,
        d.docId,
        d.tokens,
        d.tokenIdsChecksum,
      ]);
    }
  }

  /**
   * Open tasks this miner never held that still need a replica, oldest first (at most `limit`),
   * each with the keys holding its replicas so far: what the validator chooses a replica among.
   * Not locked; `openReplicaSlotForUpdate` locks the one chosen.
   */
  async replicaCandidates(miner: string, modelHash: string, maxTokens: number, limit: number): Promise<ReplicaCandidate[]> {
    const rows = await this.ex.all(
      `SELECT t.*, l.miner AS holder, m.created_at_ms AS holder_first_seen_ms, tr.remote_address AS holder_remote_address,
         COALESCE(tr.established, 0) AS holder_established
       FROM (SELECT * FROM tasks t WHERE t.state = 'open' AND t.model_hash = ? AND t.tokens <= ?
               AND t.quorum > (SELECT COUNT(*) FROM leases l WHERE l.task_id = t.task_id AND l.state IN ('active', 'ok'))
               AND NOT EXISTS (SELECT 1 FROM leases l2 WHERE l2.task_id = t.task_id AND l2.miner = ?)
             ORDER BY t.created_at_ms LIMIT ?) t
       LEFT JOIN leases l ON l.task_id = t.task_id AND l.state IN ('active', 'ok')
       LEFT JOIN miners m ON m.address = l.miner
       LEFT JOIN miner_trust tr ON tr.miner = l.miner
       ORDER BY t.created_at_ms, t.task_id`,
      [modelHash, maxTokens, miner, limit],
    );
    const byTask = new Map<string, ReplicaCandidate>();
    for (const r of rows) {
      const id = str(r.task_id);
      let candidate = byTask.get(id);
      if (!candidate) byTask.set(id, (candidate = { task: taskRow(r), holders: [] }));
      if (r.holder === null || r.holder === undefined) continue;
      candidate.holders.push({
        miner: str(r.holder),
        firstSeenMs: num(r.holder_first_seen_ms ?? 0),
        remoteAddress: strOrNull(r.holder_remote_address),
        established: num(r.holder_established) === 1,
      });
    }
    return [...byTask.values()];
  }

  /** The task, locked, if it still needs a replica (null when another transaction took the slot or holds the lock). */
  async openReplicaSlotForUpdate(taskId: string): Promise<TaskRow | null> {
    const rows = await this.ex.all(
      `SELECT * FROM tasks t WHERE t.task_id = ? AND t.state = 'open'
         AND t.quorum > (SELECT COUNT(*) FROM leases l WHERE l.task_id = t.task_id AND l.state IN ('active', 'ok')) {skipLocked}`,
      [taskId],
    );
    return rows[0] ? taskRow(rows[0]) : null;
  }

  async taskForUpdate(taskId: string): Promise<TaskRow | null> {
    const rows = await this.ex.all('SELECT * FROM tasks WHERE task_id = ? {lock}', [taskId]);
    return rows[0] ? taskRow(rows[0]) : null;
  }

  async taskDocuments(taskId: string): Promise<TaskDocRow[]> {
    const rows = await this.ex.all(
      'SELECT td.doc_id, d.text, td.tokens, td.checksum FROM task_docs td JOIN document_texts d ON d.doc_id = td.doc_id WHERE td.task_id = ? ORDER BY td.idx',
      [taskId],
    );
    return rows.map((r) => ({ docId: str(r.doc_id), text: str(r.text), tokens: num(r.tokens), tokenIdsChecksum: num(r.checksum) }));
  }

  async taskDocumentsJson(taskId: string): Promise<Buffer[]> {
    const rows = await this.ex.all(
      "SELECT CAST({jsonObject}('docId', td.doc_id, 'text', d.text) AS {jsonAs}) AS json FROM task_docs td JOIN document_texts d ON d.doc_id = td.doc_id WHERE td.task_id = ? ORDER BY td.idx",
      [taskId],
    );
    return rows.map((r) => utf8(r.json));
  }

  async taskDocumentChecks(taskId: string): Promise<Omit<TaskDocRow, 'text'>[]> {
    const rows = await this.ex.all('SELECT doc_id, tokens, checksum FROM task_docs WHERE task_id = ? ORDER BY idx', [taskId]);
    return rows.map((r) => ({ docId: str(r.doc_id), tokens: num(r.tokens), tokenIdsChecksum: num(r.checksum) }));
  }

  async setTaskState(taskId: string, state: TaskState, quorum?: number): Promise<void> {
    if (quorum === undefined) await this.ex.run('UPDATE tasks SET state = ? WHERE task_id = ?', [state, taskId]);
    else await this.ex.run('UPDATE tasks SET state = ?, quorum = ? WHERE task_id = ?', [state, quorum, taskId]);
  }

  /** Where each of a task's documents came from (the data-set export). */
  async taskDocumentUrls(taskId: string): Promise<Map<string, string | null>> {
    const rows = await this.ex.all(
      'SELECT td.doc_id, d.url FROM task_docs td JOIN documents d ON d.doc_id = td.doc_id WHERE td.task_id = ?',
      [taskId],
    );
    return new Map(rows.map((r) => [str(r.doc_id), strOrNull(r.url)]));
  }
}

/** Which miner holds which task until when. */
export class LeaseRows {
  constructor(private readonly ex: SqlExecutor) {}

  async expireLeases(nowMs: number): Promise<string[]> {
    // RETURNING, not a SELECT first: on PostgreSQL a concurrent transaction re-checks the row after
    // the lock, so each expiry is reported (and struck) once.
    const rows = await this.ex.all(`UPDATE leases SET state = 'expired' WHERE state = 'active' AND deadline_at_ms < ? RETURNING miner`, [
      nowMs,
    ]);
    return rows.map((r) => str(r.miner));
  }

  async insertLease(lease: LeaseRow): Promise<void> {
    await this.ex.run('INSERT INTO leases (task_id, miner, leased_at_ms, deadline_at_ms, state) VALUES (?, ?, ?, ?, ?)', [
      lease.taskId,
      lease.miner,
      lease.leasedAtMs,
      lease.deadlineAtMs,
      lease.state,
    ]);
  }

  async leaseForUpdate(taskId: string, miner: string): Promise<LeaseRow | null> {
    const rows = await this.ex.all('SELECT * FROM leases WHERE task_id = ? AND miner = ? {lock}', [taskId, miner]);
    return rows[0] ? leaseRow(rows[0]) : null;
  }

  async setLeaseState(taskId: string, miner: string, state: LeaseState): Promise<void> {
    await this.ex.run('UPDATE leases SET state = ? WHERE task_id = ? AND miner = ?', [state, taskId, miner]);
  }
}
