import { readFileSync } from 'node:fs';
import type { BlobFiles } from './blob-files';
import { MIGRATIONS, SCHEMA, SCHEMA_VERSION } from './schema';
import type { SqlDriver, SqlExecutor, SqlRow, SqlValue } from './sql-driver';
import type {
  BodySource, ChallengeRow, CreditRow, DocumentTokenization, LeaderboardEntry, LeaseRow, LeaseState, LedgerRow, MinerEpochTokens,
  MinerRow, NewDocument, QueuedDocument, ReadyDocument, ResultRow, ResultStatus, Store, StoreKind, StoreTx, TaskDocRow,
  TaskRow, TaskState,
} from './store';

const num = (v: unknown): number => Number(v);
const str = (v: unknown): string => String(v);
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

function taskRow(r: SqlRow): TaskRow {
  return {
    taskId: str(r.task_id), createdAtMs: num(r.created_at_ms), k: num(r.k), seqLen: num(r.seq_len),
    modelHash: str(r.model_hash), tokens: num(r.tokens), quorum: num(r.quorum), state: str(r.state) as TaskState,
  };
}

function leaseRow(r: SqlRow): LeaseRow {
  return { taskId: str(r.task_id), miner: str(r.miner), leasedAtMs: num(r.leased_at_ms), deadlineAtMs: num(r.deadline_at_ms), state: str(r.state) as LeaseState };
}

const RESULT_COLUMNS = 'task_id, miner, submitted_at_ms, body_sha256, tokens, status, reason, epoch, unverified, response_json';
const RESULT_SELECT = `${RESULT_COLUMNS}, (body IS NOT NULL OR body_path IS NOT NULL) AS body_kept`;

function resultRow(r: SqlRow): ResultRow {
  return {
    taskId: str(r.task_id), miner: str(r.miner), submittedAtMs: num(r.submitted_at_ms), bodySha256: str(r.body_sha256),
    tokens: num(r.tokens), status: str(r.status) as ResultStatus, reason: strOrNull(r.reason),
    epoch: r.epoch === null ? null : num(r.epoch), unverified: num(r.unverified) === 1, responseJson: str(r.response_json),
    bodyKept: r.body_kept === true || num(r.body_kept) === 1,
  };
}

function minerRow(r: SqlRow): MinerRow {
  return {
    address: str(r.address), name: str(r.name), gpuClass: strOrNull(r.gpu_class), streak: num(r.streak),
    validatedTokens: num(r.validated_tokens), rejectedTokens: num(r.rejected_tokens),
    payoutAddress: strOrNull(r.payout_address), createdAtMs: num(r.created_at_ms),
  };
}

function placeholders(n: number): string {
  return Array.from({ length: n }, () => '?').join(', ');
}

/** The open board of an epoch, one row per miner with validated tokens (within a GPU class when given). */
function boardOf(epoch: number, gpuClass: string | null): { sql: string; params: SqlValue[] } {
  return {
    sql: `SELECT m.address, m.name, m.gpu_class, SUM(c.tokens) AS tokens FROM credits c JOIN miners m ON m.address = c.miner
          WHERE c.epoch = ?${gpuClass === null ? '' : ' AND m.gpu_class = ?'} GROUP BY m.address, m.name, m.gpu_class HAVING SUM(c.tokens) > 0`,
    params: gpuClass === null ? [epoch] : [epoch, gpuClass],
  };
}

const NO_BYTES = new Uint8Array(0);
const bodyKey = (taskId: string, miner: string) => `${taskId}\n${miner}`;

function leaderboardEntry(r: SqlRow): LeaderboardEntry {
  return { address: str(r.address), name: str(r.name), gpuClass: strOrNull(r.gpu_class), tokens: num(r.tokens) };
}

/** The transaction primitives, over any executor (the pool/connection or an open transaction). */
class SqlTx implements StoreTx {
  /** File removals wait for the commit; files written by a transaction that rolls back are removed. */
  readonly afterCommit: (() => void)[] = [];
  readonly onRollback: (() => void)[] = [];
  /**
   * Bodies written just before COMMIT (by task and miner; `path` for a file, null for the
   * database), so one dropped in the same transaction, like a second copy of an agreed result,
   * is never written at all.
   */
  private readonly pendingBodies = new Map<string, { taskId: string; miner: string; path: string | null; body: Uint8Array }>();

  constructor(
    protected readonly ex: SqlExecutor,
    protected readonly blobs: BlobFiles | null,
  ) {}

  async readyDocumentsForUpdate(seqLen: number, limit: number): Promise<ReadyDocument[]> {
    const rows = await this.ex.all(
      `SELECT seq, doc_id, tokens, checksum FROM documents WHERE state = 'queued' AND tok_seq_len = ? ORDER BY seq LIMIT ? {skipLocked}`,
      [seqLen, limit],
    );
    return rows.map((r) => ({ seq: num(r.seq), docId: str(r.doc_id), tokens: num(r.tokens), tokenIdsChecksum: num(r.checksum) }));
  }

  async markDocumentsAssigned(docIds: string[]): Promise<void> {
    if (docIds.length) await this.ex.run(`UPDATE documents SET state = 'assigned' WHERE doc_id IN (${placeholders(docIds.length)})`, docIds);
  }

  async requeueDocuments(docIds: string[]): Promise<void> {
    if (docIds.length) await this.ex.run(`UPDATE documents SET state = 'queued' WHERE doc_id IN (${placeholders(docIds.length)})`, docIds);
  }

  async insertTask(task: TaskRow, docs: { docId: string; tokens: number; tokenIdsChecksum: number }[]): Promise<void> {
    await this.ex.run(
      'INSERT INTO tasks (task_id, created_at_ms, k, seq_len, model_hash, tokens, quorum, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      [task.taskId, task.createdAtMs, task.k, task.seqLen, task.modelHash, task.tokens, task.quorum, task.state],
    );
    for (let i = 0; i < docs.length; i++) {
      const d = docs[i]!;
      await this.ex.run('INSERT INTO task_docs (task_id, idx, doc_id, tokens, checksum) VALUES (?, ?, ?, ?, ?)', [task.taskId, i, d.docId, d.tokens, d.tokenIdsChecksum]);
    }
  }

  async taskNeedingReplicaForUpdate(miner: string, modelHash: string, maxTokens: number): Promise<TaskRow | null> {
    const rows = await this.ex.all(
      `SELECT * FROM tasks t WHERE t.state = 'open' AND t.model_hash = ? AND t.tokens <= ?
         AND t.quorum > (SELECT COUNT(*) FROM leases l WHERE l.task_id = t.task_id AND l.state IN ('active', 'ok'))
         AND NOT EXISTS (SELECT 1 FROM leases l2 WHERE l2.task_id = t.task_id AND l2.miner = ?)
       ORDER BY t.created_at_ms LIMIT 1 {skipLocked}`,
      [modelHash, maxTokens, miner],
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
    return rows.map((r) => (Buffer.isBuffer(r.json) ? r.json : Buffer.from(str(r.json))));
  }

  async taskDocumentChecks(taskId: string): Promise<Omit<TaskDocRow, 'text'>[]> {
    const rows = await this.ex.all('SELECT doc_id, tokens, checksum FROM task_docs WHERE task_id = ? ORDER BY idx', [taskId]);
    return rows.map((r) => ({ docId: str(r.doc_id), tokens: num(r.tokens), tokenIdsChecksum: num(r.checksum) }));
  }

  async setTaskState(taskId: string, state: TaskState, quorum?: number): Promise<void> {
    if (quorum === undefined) await this.ex.run('UPDATE tasks SET state = ? WHERE task_id = ?', [state, taskId]);
    else await this.ex.run('UPDATE tasks SET state = ?, quorum = ? WHERE task_id = ?', [state, quorum, taskId]);
  }

  expireLeases(nowMs: number): Promise<number> {
    return this.ex.run(`UPDATE leases SET state = 'expired' WHERE state = 'active' AND deadline_at_ms < ?`, [nowMs]);
  }

  async insertLease(lease: LeaseRow): Promise<void> {
    await this.ex.run('INSERT INTO leases (task_id, miner, leased_at_ms, deadline_at_ms, state) VALUES (?, ?, ?, ?, ?)', [
      lease.taskId, lease.miner, lease.leasedAtMs, lease.deadlineAtMs, lease.state,
    ]);
  }

  async leaseForUpdate(taskId: string, miner: string): Promise<LeaseRow | null> {
    const rows = await this.ex.all('SELECT * FROM leases WHERE task_id = ? AND miner = ? {lock}', [taskId, miner]);
    return rows[0] ? leaseRow(rows[0]) : null;
  }

  async setLeaseState(taskId: string, miner: string, state: LeaseState): Promise<void> {
    await this.ex.run('UPDATE leases SET state = ? WHERE task_id = ? AND miner = ?', [state, taskId, miner]);
  }

  async result(taskId: string, miner: string): Promise<ResultRow | null> {
    const rows = await this.ex.all(`SELECT ${RESULT_SELECT} FROM results WHERE task_id = ? AND miner = ?`, [taskId, miner]);
    return rows[0] ? resultRow(rows[0]) : null;
  }

  async insertResult(row: ResultRow, body: Uint8Array, stagedAt?: string | null): Promise<void> {
    let path: string | null = null;
    const blobs = this.blobs;
    if (blobs && stagedAt) {
      path = blobs.relativeOf(stagedAt);
      this.onRollback.push(() => blobs.remove(path!));
    } else {
      path = blobs ? blobs.pathOf(row.taskId, row.miner) : null;
      this.pendingBodies.set(bodyKey(row.taskId, row.miner), { taskId: row.taskId, miner: row.miner, path, body });
    }
    // A body bound for the database is an empty placeholder until `flushBodies`, so that the row
    // counts as keeping its body meanwhile.
    await this.ex.run(
      `INSERT INTO results (${RESULT_COLUMNS}, body, body_path) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [row.taskId, row.miner, row.submittedAtMs, row.bodySha256, row.tokens, row.status, row.reason, row.epoch, row.unverified ? 1 : 0, row.responseJson, path ? null : NO_BYTES, path],
    );
  }

  async dropResultBody(taskId: string, miner: string): Promise<void> {
    const rows = await this.ex.all('SELECT body_path FROM results WHERE task_id = ? AND miner = ?', [taskId, miner]);
    await this.ex.run('UPDATE results SET body = NULL, body_path = NULL WHERE task_id = ? AND miner = ?', [taskId, miner]);
    const path = rows[0] ? strOrNull(rows[0].body_path) : null;
    if (!this.pendingBodies.delete(bodyKey(taskId, miner)) && path && this.blobs) {
      const blobs = this.blobs;
      this.afterCommit.push(() => blobs.remove(path));
    }
  }

  /** Writes the bodies this transaction still keeps; runs inside it, just before COMMIT. */
  async flushBodies(): Promise<void> {
    const blobs = this.blobs;
    for (const { taskId, miner, path, body } of this.pendingBodies.values()) {
      if (path && blobs) {
        blobs.write(path, body);
        this.onRollback.push(() => blobs.remove(path));
      } else await this.ex.run('UPDATE results SET body = ? WHERE task_id = ? AND miner = ?', [body, taskId, miner]);
    }
    this.pendingBodies.clear();
  }

  async setResultResponse(taskId: string, miner: string, responseJson: string): Promise<void> {
    await this.ex.run('UPDATE results SET response_json = ? WHERE task_id = ? AND miner = ?', [responseJson, taskId, miner]);
  }

  async resultsOfTask(taskId: string): Promise<ResultRow[]> {
    return (await this.ex.all(`SELECT ${RESULT_SELECT} FROM results WHERE task_id = ? ORDER BY submitted_at_ms, miner`, [taskId])).map(resultRow);
  }

  async resultBody(taskId: string, miner: string): Promise<Uint8Array | null> {
    const source = await this.resultBodySource(taskId, miner);
    return source === null ? null : 'bytes' in source ? source.bytes : readFileSync(source.path);
  }

  async resultBodySource(taskId: string, miner: string): Promise<BodySource | null> {
    const pending = this.pendingBodies.get(bodyKey(taskId, miner));
    if (pending) return { bytes: pending.body };
    // Without files every body is in the database: no need to ask for a path first.
    if (this.blobs) {
      const rows = await this.ex.all('SELECT body_path FROM results WHERE task_id = ? AND miner = ?', [taskId, miner]);
      const path = rows[0] ? strOrNull(rows[0].body_path) : null;
      if (path) return { path: this.blobs.absolute(path) };
    }
    const body = await this.databaseBody(taskId, miner);
    return body ? { bytes: body } : null;
  }

  protected databaseBody(taskId: string, miner: string): Promise<Uint8Array | null> {
    return this.ex.bytes('SELECT body FROM results WHERE task_id = ? AND miner = ?', [taskId, miner]);
  }

  async setResultOutcome(taskId: string, miner: string, o: { status: ResultStatus; reason: string | null; epoch: number | null; unverified: boolean }): Promise<void> {
    await this.ex.run('UPDATE results SET status = ?, reason = ?, epoch = ?, unverified = ? WHERE task_id = ? AND miner = ?', [
      o.status, o.reason, o.epoch, o.unverified ? 1 : 0, taskId, miner,
    ]);
  }

  async unverifiedResults(miner: string, fromEpoch: number): Promise<ResultRow[]> {
    const rows = await this.ex.all(
      `SELECT ${RESULT_SELECT} FROM results WHERE miner = ? AND unverified = 1 AND status = 'validated' AND epoch >= ?`,
      [miner, fromEpoch],
    );
    return rows.map(resultRow);
  }

  async upsertMiner(address: string, seen: { name?: string; gpuClass?: string; nowMs: number }): Promise<MinerRow> {
    await this.ex.run(
      `INSERT INTO miners (address, name, gpu_class, created_at_ms, last_seen_ms) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (address) DO UPDATE SET last_seen_ms = excluded.last_seen_ms,
         name = COALESCE(CAST(? AS TEXT), miners.name), gpu_class = COALESCE(CAST(? AS TEXT), miners.gpu_class)`,
      [address, seen.name ?? address.slice(0, 8), seen.gpuClass ?? null, seen.nowMs, seen.nowMs, seen.name ?? null, seen.gpuClass ?? null],
    );
    return (await this.minerForUpdate(address))!;
  }

  async minerForUpdate(address: string): Promise<MinerRow | null> {
    const rows = await this.ex.all('SELECT * FROM miners WHERE address = ? {lock}', [address]);
    return rows[0] ? minerRow(rows[0]) : null;
  }

  async updateMinerCounters(address: string, d: { streak: number | 'reset'; validatedTokens: number; rejectedTokens: number }): Promise<void> {
    const streak = d.streak === 'reset' ? 'streak = 0' : 'streak = streak + ?';
    const params: SqlValue[] = d.streak === 'reset' ? [] : [d.streak];
    await this.ex.run(
      `UPDATE miners SET ${streak}, validated_tokens = validated_tokens + ?, rejected_tokens = rejected_tokens + ? WHERE address = ?`,
      [...params, d.validatedTokens, d.rejectedTokens, address],
    );
  }

  async addCredit(c: CreditRow): Promise<void> {
    await this.ex.run(
      `INSERT INTO credits (miner, epoch, hour_start_ms, tokens) VALUES (?, ?, ?, ?)
       ON CONFLICT (miner, epoch, hour_start_ms) DO UPDATE SET tokens = credits.tokens + excluded.tokens`,
      [c.miner, c.epoch, c.hourStartMs, c.tokens],
    );
  }

  async claimNonce(address: string, nonce: string, expiresAtMs: number, nowMs: number): Promise<boolean> {
    // An expired row for the same nonce is reusable (its timestamp could no longer verify anyway).
    const changed = await this.ex.run(
      `INSERT INTO nonces (address, nonce, expires_at_ms) VALUES (?, ?, ?)
       ON CONFLICT (address, nonce) DO UPDATE SET expires_at_ms = excluded.expires_at_ms WHERE nonces.expires_at_ms < ?`,
      [address, nonce, expiresAtMs, nowMs],
    );
    return changed > 0;
  }

  pruneNonces(nowMs: number): Promise<number> {
    return this.ex.run('DELETE FROM nonces WHERE expires_at_ms < ?', [nowMs]);
  }

  async insertChallenge(row: ChallengeRow): Promise<void> {
    await this.ex.run('INSERT INTO payout_challenges (challenge_id, miner, expires_at_ms, used) VALUES (?, ?, ?, 0)', [row.challengeId, row.miner, row.expiresAtMs]);
  }

  async challengeForUpdate(challengeId: string): Promise<ChallengeRow | null> {
    const rows = await this.ex.all('SELECT * FROM payout_challenges WHERE challenge_id = ? {lock}', [challengeId]);
    const r = rows[0];
    return r ? { challengeId: str(r.challenge_id), miner: str(r.miner), expiresAtMs: num(r.expires_at_ms), used: num(r.used) === 1 } : null;
  }

  async markChallengeUsed(challengeId: string): Promise<void> {
    await this.ex.run('UPDATE payout_challenges SET used = 1 WHERE challenge_id = ?', [challengeId]);
  }

  async setPayoutAddress(miner: string, payoutAddress: string): Promise<void> {
    await this.ex.run('UPDATE miners SET payout_address = ? WHERE address = ?', [payoutAddress, miner]);
  }

  async claimEpochPublication(epoch: number, nowMs: number): Promise<boolean> {
    return (await this.ex.run('INSERT INTO epoch_publications (epoch, published_at_ms) VALUES (?, ?) ON CONFLICT (epoch) DO NOTHING', [epoch, nowMs])) > 0;
  }
}

/** Brings an older database to SCHEMA_VERSION, one version per transaction (one process at a time on PostgreSQL). */
async function migrate(driver: SqlDriver): Promise<void> {
  for (let to = 2; to <= SCHEMA_VERSION; to++) {
    await driver.transaction(async (ex) => {
      if (driver.dialect === 'postgres') await ex.all('SELECT pg_advisory_xact_lock(7431)');
      const at = num((await ex.all('SELECT version FROM schema_version'))[0]!.version);
      if (at !== to - 1) return;
      for (const statement of MIGRATIONS[to] ?? []) await ex.run(statement);
      await ex.run('UPDATE schema_version SET version = ?', [to]);
    });
  }
}

export class SqlStore extends SqlTx implements Store {
  readonly kind: StoreKind;

  private constructor(
    private readonly driver: SqlDriver,
    blobs: BlobFiles | null,
  ) {
    super(driver, blobs);
    this.kind = driver.dialect;
  }

  /** `blobs`: keep result bodies as files (SQLite); null keeps them in the database. */
  static async open(driver: SqlDriver, blobs: BlobFiles | null = null): Promise<SqlStore> {
    if (driver.dialect === 'postgres') {
      // Several validator processes may start at once against one database; one creates the schema.
      await driver.transaction(async (ex) => {
        await ex.all('SELECT pg_advisory_xact_lock(7431)');
        for (const statement of SCHEMA.split(';').map((s) => s.trim()).filter(Boolean)) await ex.run(statement);
        // Soft labels do not compress: skip TOAST's pglz attempt on every megabyte-sized body.
        await ex.run('ALTER TABLE results ALTER COLUMN body SET STORAGE EXTERNAL');
      });
    } else {
      await driver.exec(SCHEMA);
    }
    const version = await driver.all('SELECT version FROM schema_version');
    if (version.length === 0) await driver.run('INSERT INTO schema_version (version) VALUES (?)', [SCHEMA_VERSION]);
    else if (num(version[0]!.version) > SCHEMA_VERSION) {
      await driver.close();
      throw new Error(`The database was written by a newer validator (schema ${num(version[0]!.version)}; this one reads ${SCHEMA_VERSION}).`);
    } else if (num(version[0]!.version) < SCHEMA_VERSION) await migrate(driver);
    return new SqlStore(driver, blobs);
  }

  stagingPath(taskId: string, miner: string): string | null {
    return this.blobs ? this.blobs.stagingPath(taskId, miner) : null;
  }

  discardStaged(path: string): void {
    this.blobs?.remove(this.blobs.relativeOf(path));
  }

  async transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    let tx: SqlTx | null = null;
    try {
      const out = await this.driver.transaction(async (ex) => {
        const t = (tx = new SqlTx(ex, this.blobs));
        const value = await fn(t);
        await t.flushBodies();
        return value;
      });
      for (const done of (tx as SqlTx | null)?.afterCommit ?? []) done();
      return out;
    } catch (error) {
      for (const undo of (tx as SqlTx | null)?.onRollback ?? []) undo();
      throw error;
    }
  }

  async addDocuments(docs: NewDocument[]): Promise<number> {
    const now = Date.now();
    return this.driver.transaction(async (ex) => {
      let added = 0;
      for (const d of docs) {
        const inserted = await ex.run(
          'INSERT INTO documents (doc_id, url, token_estimate, added_at_ms) VALUES (?, ?, ?, ?) ON CONFLICT (doc_id) DO NOTHING',
          [d.docId, d.url, d.tokenCount ?? null, now],
        );
        if (inserted) await ex.run('INSERT INTO document_texts (doc_id, text) VALUES (?, ?)', [d.docId, d.text]);
        added += inserted;
      }
      return added;
    });
  }

  async untokenizedDocuments(seqLen: number, limit: number): Promise<QueuedDocument[]> {
    const rows = await this.driver.all(
      `SELECT d.doc_id, t.text FROM documents d JOIN document_texts t ON t.doc_id = d.doc_id
       WHERE d.state = 'queued' AND (d.tok_seq_len IS NULL OR d.tok_seq_len <> ?) ORDER BY d.seq LIMIT ?`,
      [seqLen, limit],
    );
    return rows.map((r) => ({ docId: str(r.doc_id), text: str(r.text) }));
  }

  async setTokenizations(seqLen: number, rows: DocumentTokenization[]): Promise<void> {
    await this.driver.transaction(async (ex) => {
      for (const r of rows) {
        await ex.run('UPDATE documents SET tok_seq_len = ?, tokens = ?, checksum = ? WHERE doc_id = ?', [seqLen, r.tokens, r.tokenIdsChecksum, r.docId]);
      }
    });
  }

  async queueDepth(): Promise<{ queued: number; openTasks: number }> {
    const q = await this.driver.all(`SELECT COUNT(*) AS n FROM documents WHERE state = 'queued'`);
    const t = await this.driver.all(`SELECT COUNT(*) AS n FROM tasks WHERE state IN ('open', 'checking')`);
    return { queued: num(q[0]!.n), openTasks: num(t[0]!.n) };
  }

  async miner(address: string): Promise<MinerRow | null> {
    const rows = await this.driver.all('SELECT * FROM miners WHERE address = ?', [address]);
    return rows[0] ? minerRow(rows[0]) : null;
  }

  async totalValidatedTokens(): Promise<number> {
    return num((await this.driver.all('SELECT COALESCE(SUM(validated_tokens), 0) AS n FROM miners'))[0]!.n);
  }

  async pendingTokens(miner: string): Promise<number> {
    const rows = await this.driver.all(`SELECT COALESCE(SUM(tokens), 0) AS n FROM results WHERE miner = ? AND status = 'pending'`, [miner]);
    return num(rows[0]!.n);
  }

  async epochTokens(epochs: number[], miner: string | null): Promise<MinerEpochTokens[]> {
    if (epochs.length === 0) return [];
    const minerClause = miner === null ? '' : ' AND miner = ?';
    const rows = await this.driver.all(
      `SELECT miner, epoch, SUM(tokens) AS tokens FROM credits WHERE epoch IN (${placeholders(epochs.length)})${minerClause} GROUP BY miner, epoch`,
      miner === null ? epochs : [...epochs, miner],
    );
    return rows.map((r) => ({ miner: str(r.miner), epoch: num(r.epoch), tokens: num(r.tokens) }));
  }

  async epochTotals(epochs: number[]): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    if (epochs.length === 0) return out;
    const rows = await this.driver.all(`SELECT epoch, SUM(tokens) AS tokens FROM credits WHERE epoch IN (${placeholders(epochs.length)}) GROUP BY epoch`, epochs);
    for (const r of rows) out.set(num(r.epoch), num(r.tokens));
    return out;
  }

  async minerEpochs(miner: string): Promise<number[]> {
    return (await this.driver.all('SELECT DISTINCT epoch FROM credits WHERE miner = ? ORDER BY epoch', [miner])).map((r) => num(r.epoch));
  }

  async hourlyCredits(miner: string, sinceMs: number): Promise<CreditRow[]> {
    const rows = await this.driver.all(
      'SELECT miner, epoch, hour_start_ms, tokens FROM credits WHERE miner = ? AND hour_start_ms >= ? ORDER BY hour_start_ms, epoch',
      [miner, sinceMs],
    );
    return rows.map((r) => ({ miner: str(r.miner), epoch: num(r.epoch), hourStartMs: num(r.hour_start_ms), tokens: num(r.tokens) }));
  }

  async leaderboard(epoch: number, opts: { offset: number; limit: number; gpuClass: string | null }): Promise<{ total: number; rows: LeaderboardEntry[] }> {
    const { sql, params } = boardOf(epoch, opts.gpuClass);
    const total = await this.driver.all(`WITH board AS (${sql}) SELECT COUNT(*) AS n FROM board`, params);
    const rows = await this.driver.all(`${sql} ORDER BY tokens DESC, m.address LIMIT ? OFFSET ?`, [...params, opts.limit, opts.offset]);
    return { total: num(total[0]!.n), rows: rows.map(leaderboardEntry) };
  }

  async leaderboardRank(epoch: number, address: string, gpuClass: string | null): Promise<{ rank: number; entry: LeaderboardEntry } | null> {
    const { sql, params } = boardOf(epoch, gpuClass);
    // Ranked by the same order as a page of the board: tokens, then address.
    const rows = await this.driver.all(
      `WITH board AS (${sql})
       SELECT b.*, (SELECT COUNT(*) FROM board o WHERE o.tokens > b.tokens OR (o.tokens = b.tokens AND o.address < b.address)) + 1 AS rank
       FROM board b WHERE b.address = ?`,
      [...params, address],
    );
    return rows[0] ? { rank: num(rows[0].rank), entry: leaderboardEntry(rows[0]) } : null;
  }

  async ledger(miner: string, opts: { beforeMs: number | null; beforeTaskId: string | null; limit: number }): Promise<LedgerRow[]> {
    const cursor = opts.beforeMs === null ? '' : ' AND (submitted_at_ms < ? OR (submitted_at_ms = ? AND task_id < ?))';
    const params: SqlValue[] = opts.beforeMs === null ? [miner] : [miner, opts.beforeMs, opts.beforeMs, opts.beforeTaskId ?? ''];
    const rows = await this.driver.all(
      `SELECT task_id, submitted_at_ms, tokens, status, reason, epoch FROM results WHERE miner = ?${cursor}
       ORDER BY submitted_at_ms DESC, task_id DESC LIMIT ?`,
      [...params, opts.limit],
    );
    return rows.map((r) => ({
      taskId: str(r.task_id), submittedAtMs: num(r.submitted_at_ms), tokens: num(r.tokens), status: str(r.status) as ResultStatus,
      reason: strOrNull(r.reason), epoch: r.epoch === null ? null : num(r.epoch),
    }));
  }

  async validatedResults(afterTaskId: string | null, limit: number): Promise<{ taskId: string; modelHash: string; k: number; body: Uint8Array }[]> {
    const rows = await this.driver.all(
      `SELECT r.task_id, r.miner, r.body_path, t.model_hash, t.k FROM results r JOIN tasks t ON t.task_id = r.task_id
       WHERE r.status = 'validated' AND r.task_id > ?
         AND r.miner = (SELECT MIN(r2.miner) FROM results r2 WHERE r2.task_id = r.task_id AND r2.status = 'validated'
                          AND (r2.body IS NOT NULL OR r2.body_path IS NOT NULL))
       ORDER BY r.task_id LIMIT ?`,
      [afterTaskId ?? '', limit],
    );
    const out: { taskId: string; modelHash: string; k: number; body: Uint8Array }[] = [];
    for (const r of rows) {
      const [taskId, path] = [str(r.task_id), strOrNull(r.body_path)];
      const body = path && this.blobs ? this.blobs.read(path) : await this.databaseBody(taskId, str(r.miner));
      out.push({ taskId, modelHash: str(r.model_hash), k: num(r.k), body: body ?? new Uint8Array(0) });
    }
    return out;
  }

  async taskDocumentUrls(taskId: string): Promise<Map<string, string | null>> {
    const rows = await this.driver.all('SELECT td.doc_id, d.url FROM task_docs td JOIN documents d ON d.doc_id = td.doc_id WHERE td.task_id = ?', [taskId]);
    return new Map(rows.map((r) => [str(r.doc_id), strOrNull(r.url)]));
  }

  close(): Promise<void> {
    return this.driver.close();
  }
}
