/**
 * The little that differs between SQLite and PostgreSQL, so the SQL in `sql-store.ts` is written
 * once: `?` placeholders (rewritten to `$n`), `{blob}`/`{serial}` column types, the
 * `{lock}`/`{skipLocked}` row-lock suffixes, which SQLite does not need: its transactions are
 * serialised whole (BEGIN IMMEDIATE) by the driver, and `{jsonObject}`/`{jsonAs}` for JSON built
 * by the database: SQLite hands its UTF-8 over as bytes (a BLOB), PostgreSQL as text.
 */
export type Dialect = 'sqlite' | 'postgres';

export type SqlValue = string | number | bigint | null | Uint8Array;
export type SqlRow = Record<string, unknown>;

export interface SqlExecutor {
  all(sql: string, params?: SqlValue[]): Promise<SqlRow[]>;
  run(sql: string, params?: SqlValue[]): Promise<number>;
  /**
   * The first column of the first row as bytes (null for no row or NULL): for megabyte-sized
   * BLOB/BYTEA values, which node-postgres would otherwise receive as hex text, twice their size,
   * and decode on the event loop (~30 ms for a 3.7 MiB result here).
   */
  bytes(sql: string, params?: SqlValue[]): Promise<Uint8Array | null>;
}

export interface SqlDriver extends SqlExecutor {
  readonly dialect: Dialect;
  transaction<T>(fn: (ex: SqlExecutor) => Promise<T>): Promise<T>;
  exec(script: string): Promise<void>;
  close(): Promise<void>;
}

const POSTGRES_TOKENS: Record<string, string> = {
  '{blob}': 'BYTEA',
  '{serial}': 'BIGSERIAL PRIMARY KEY',
  '{lock}': 'FOR UPDATE',
  '{skipLocked}': 'FOR UPDATE SKIP LOCKED',
  '{jsonObject}': 'json_build_object',
  '{jsonAs}': 'TEXT',
};
const SQLITE_TOKENS: Record<string, string> = {
  '{blob}': 'BLOB',
  '{serial}': 'INTEGER PRIMARY KEY AUTOINCREMENT',
  '{lock}': '',
  '{skipLocked}': '',
  '{jsonObject}': 'json_object',
  '{jsonAs}': 'BLOB',
};

const cache = new Map<string, string>();

/** Rewrites dialect tokens (and, for PostgreSQL, `?` to `$1..$n`). Memoised: the SQL is static. */
export function translate(dialect: Dialect, sql: string): string {
  const key = `${dialect}\u0000${sql}`;
  let out = cache.get(key);
  if (out !== undefined) return out;
  const tokens = dialect === 'postgres' ? POSTGRES_TOKENS : SQLITE_TOKENS;
  out = sql.replace(/\{(blob|serial|lock|skipLocked|jsonObject|jsonAs)\}/g, (t) => tokens[t]!);
  if (dialect === 'postgres') {
    let n = 0;
    out = out.replace(/\?/g, () => `$${++n}`);
  }
  cache.set(key, out);
  return out;
}
