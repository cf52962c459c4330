import Database from 'better-sqlite3';
import { SqliteCheckpointer } from './sqlite-checkpointer';
import { spellTokens, type DialectTokens, type SqlDriver, type SqlExecutor, type SqlRow, type SqlValue } from './sql-driver';

const CHECKPOINT_EVERY_MS = 1000;
/** SQLite's own default, restored if the checkpoint thread is lost. */
const DEFAULT_AUTOCHECKPOINT_PAGES = 1000;

const SQLITE_TOKENS: DialectTokens = {
  blob: 'BLOB',
  serial: 'INTEGER PRIMARY KEY AUTOINCREMENT',
  lock: '',
  skipLocked: '',
  jsonObject: 'json_object',
  jsonAs: 'BLOB',
};

/**
 * better-sqlite3 in WAL mode. Its calls are synchronous, but the store's API is async (for
 * PostgreSQL), so a transaction's callback may await: a promise-chain mutex runs one operation
 * or transaction at a time, which keeps other requests out of an open transaction.
 */
export class SqliteDriver implements SqlDriver {
  readonly dialect = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  private tail: Promise<unknown> = Promise.resolve();

  private readonly checkpointer: SqliteCheckpointer | null = null;

  /** `backgroundCheckpoints`: checkpoint in a thread of its own (SqliteCheckpointer) instead of inside COMMITs. */
  constructor(path: string, opts: { backgroundCheckpoints?: boolean; onWarning?: (message: string) => void } = {}) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode: a commit survives a process crash; only an OS crash can lose the last ones.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('foreign_keys = ON');
    if (opts.backgroundCheckpoints) {
      this.db.pragma('wal_autocheckpoint = 0');
      this.checkpointer = new SqliteCheckpointer(path, CHECKPOINT_EVERY_MS, (why) => {
        opts.onWarning?.(`${why}; checkpointing inside commits again`);
        if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT_PAGES}`);
      });
    }
  }

  private statement(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(spellTokens(sql, SQLITE_TOKENS));
      this.statements.set(sql, s);
    }
    return s;
  }

  private readonly direct: SqlExecutor = {
    all: async (sql, params = []) => {
      const s = this.statement(sql);
      return s.reader ? (s.all(...bind(params)) as SqlRow[]) : (s.run(...bind(params)), []);
    },
    run: async (sql, params = []) => this.statement(sql).run(...bind(params)).changes,
    bytes: async (sql, params = []) => {
      const row = this.statement(sql).get(...bind(params)) as SqlRow | undefined;
      const value = row ? Object.values(row)[0] : null;
      return value instanceof Uint8Array ? value : null;
    },
  };

  private serialise<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.catch(() => undefined);
    return next;
  }

  all(sql: string, params?: SqlValue[]): Promise<SqlRow[]> {
    return this.serialise(() => this.direct.all(sql, params));
  }

  run(sql: string, params?: SqlValue[]): Promise<number> {
    return this.serialise(() => this.direct.run(sql, params));
  }

  bytes(sql: string, params?: SqlValue[]): Promise<Uint8Array | null> {
    return this.serialise(() => this.direct.bytes(sql, params));
  }

  transaction<T>(fn: (ex: SqlExecutor) => Promise<T>): Promise<T> {
    return this.serialise(async () => {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const out = await fn(this.direct);
        this.db.exec('COMMIT');
        return out;
      } catch (error) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw error;
      }
    });
  }

  /** BEGIN IMMEDIATE already takes the database's one write lock, across processes too. */
  exclusiveTransaction<T>(fn: (ex: SqlExecutor) => Promise<T>): Promise<T> {
    return this.transaction(fn);
  }

  /** SQLite never compresses a value, so every column is stored as it is already. */
  createSchema(script: string): Promise<void> {
    return this.exec(script);
  }

  exec(script: string): Promise<void> {
    return this.serialise(async () => void this.db.exec(spellTokens(script, SQLITE_TOKENS)));
  }

  close(): Promise<void> {
    return this.serialise(async () => {
      await this.checkpointer?.stop();
      this.db.close();
    });
  }
}

function bind(params: SqlValue[]): unknown[] {
  // better-sqlite3 binds Buffers as BLOBs; a plain Uint8Array must be viewed as one.
  return params.map((p) => (p instanceof Uint8Array && !Buffer.isBuffer(p) ? Buffer.from(p.buffer, p.byteOffset, p.byteLength) : p));
}
