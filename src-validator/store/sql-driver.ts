/**
 * The port between the SQL, written once in a neutral dialect (`sql/`), and a database. The SQL
 * uses `?` placeholders and these tokens, which each driver spells in its own dialect:
 * `{blob}`/`{serial}` column types, the `{lock}`/`{skipLocked}` row-lock suffixes (SQLite needs
 * none: its driver serialises whole transactions with BEGIN IMMEDIATE), and `{jsonObject}`/
 * `{jsonAs}` for JSON built by the database (SQLite hands its UTF-8 over as bytes, PostgreSQL as
 * text). What is more than a spelling (creating the schema, a migration's lock) is a method.
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

/** A column whose values no compression shrinks (soft labels), so the database should not try. */
export interface IncompressibleColumn {
  table: string;
  column: string;
}

export interface SqlDriver extends SqlExecutor {
  readonly dialect: Dialect;
  transaction<T>(fn: (ex: SqlExecutor) => Promise<T>): Promise<T>;
  /** A transaction no other process runs against this database at the same time (a migration step). */
  exclusiveTransaction<T>(fn: (ex: SqlExecutor) => Promise<T>): Promise<T>;
  /**
   * Runs a schema script of idempotent statements (CREATE ... IF NOT EXISTS), once even when
   * several validator processes open one database at the same moment.
   */
  createSchema(script: string, incompressible: IncompressibleColumn[]): Promise<void>;
  exec(script: string): Promise<void>;
  close(): Promise<void>;
}

export type DialectTokens = Record<'blob' | 'serial' | 'lock' | 'skipLocked' | 'jsonObject' | 'jsonAs', string>;

/** The neutral SQL's tokens spelled in one dialect. */
export function spellTokens(sql: string, tokens: DialectTokens): string {
  return sql.replace(/\{(blob|serial|lock|skipLocked|jsonObject|jsonAs)\}/g, (_, name: keyof DialectTokens) => tokens[name]);
}
