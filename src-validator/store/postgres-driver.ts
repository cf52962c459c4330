import pg from 'pg';
import {
  spellTokens,
  type DialectTokens,
  type IncompressibleColumn,
  type SqlDriver,
  type SqlExecutor,
  type SqlRow,
  type SqlValue,
} from './sql-driver';

const INT8_OID = 20;
const NUMERIC_OID = 1700;
/** The advisory lock that serialises schema changes between validator processes. */
const SCHEMA_LOCK_KEY = 7431;

const POSTGRES_TOKENS: DialectTokens = {
  blob: 'BYTEA',
  serial: 'BIGSERIAL PRIMARY KEY',
  lock: 'FOR UPDATE',
  skipLocked: 'FOR UPDATE SKIP LOCKED',
  jsonObject: 'json_build_object',
  jsonAs: 'TEXT',
};

const spelled = new Map<string, string>();

/** The neutral SQL in PostgreSQL's spelling, `?` numbered `$1..$n`. Memoised: the SQL is static. */
function toPostgres(sql: string): string {
  let out = spelled.get(sql);
  if (out === undefined) {
    let n = 0;
    out = spellTokens(sql, POSTGRES_TOKENS).replace(/\?/g, () => `$${++n}`);
    spelled.set(sql, out);
  }
  return out;
}

/**
 * node-postgres with a pool. BIGINT and NUMERIC (what SUM returns) parse to numbers: every
 * quantity we store (ms timestamps, token counts) is far below 2^53, and amounts in nano are
 * strings in the schema, never numeric.
 */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID || oid === NUMERIC_OID) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

export class PostgresDriver implements SqlDriver {
  readonly dialect = 'postgres' as const;
  private readonly pool: pg.Pool;

  constructor(connectionString: string, maxConnections = 8) {
    this.pool = new pg.Pool({ connectionString, max: maxConnections, types: types as pg.CustomTypesConfig });
    // An idle client's error (the server restarted) must not crash the validator.
    this.pool.on('error', () => undefined);
  }

  private static executor(client: pg.Pool | pg.PoolClient): SqlExecutor {
    return {
      all: async (sql, params = []) => (await client.query(toPostgres(sql), bind(params))).rows as SqlRow[],
      run: async (sql, params = []) => (await client.query(toPostgres(sql), bind(params))).rowCount ?? 0,
      bytes: async (sql, params = []) => {
        const select = withLiterals(toPostgres(sql), params);
        if (!(client instanceof pg.Pool)) return copyOutBytes(client, select);
        const own = await client.connect();
        try {
          return await copyOutBytes(own, select);
        } finally {
          own.release();
        }
      },
    };
  }

  all(sql: string, params?: SqlValue[]): Promise<SqlRow[]> {
    return PostgresDriver.executor(this.pool).all(sql, params);
  }

  run(sql: string, params?: SqlValue[]): Promise<number> {
    return PostgresDriver.executor(this.pool).run(sql, params);
  }

  bytes(sql: string, params?: SqlValue[]): Promise<Uint8Array | null> {
    return PostgresDriver.executor(this.pool).bytes(sql, params);
  }

  async transaction<T>(fn: (ex: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const out = await fn(PostgresDriver.executor(client));
      await client.query('COMMIT');
      return out;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  exclusiveTransaction<T>(fn: (ex: SqlExecutor) => Promise<T>): Promise<T> {
    return this.transaction(async (ex) => {
      await ex.all(`SELECT pg_advisory_xact_lock(${SCHEMA_LOCK_KEY})`);
      return fn(ex);
    });
  }

  /** Several validator processes may start at once against one database; one creates the schema. */
  createSchema(script: string, incompressible: IncompressibleColumn[]): Promise<void> {
    return this.exclusiveTransaction(async (ex) => {
      for (const statement of script
        .split(';')
        .map((s) => s.trim())
        .filter(Boolean))
        await ex.run(statement);
      // Skips TOAST's pglz attempt on every write of a megabyte-sized value that would not shrink.
      for (const { table, column } of incompressible) await ex.run(`ALTER TABLE ${table} ALTER COLUMN ${column} SET STORAGE EXTERNAL`);
    });
  }

  async exec(script: string): Promise<void> {
    await this.pool.query(toPostgres(script));
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

function bind(params: SqlValue[]): unknown[] {
  return params.map((p) =>
    p instanceof Uint8Array && !Buffer.isBuffer(p)
      ? Buffer.from(p.buffer, p.byteOffset, p.byteLength)
      : typeof p === 'bigint'
        ? p.toString()
        : p,
  );
}

/** `$1..$n` replaced by literals: COPY takes no parameters. Text and numbers only. */
function withLiterals(sql: string, params: SqlValue[]): string {
  return sql.replace(/\$(\d+)/g, (_, n: string) => {
    const p = params[Number(n) - 1];
    if (typeof p === 'string') return pg.escapeLiteral(p);
    if (typeof p === 'number' && Number.isFinite(p)) return String(p);
    if (typeof p === 'bigint') return p.toString();
    throw new Error(`a bytes() query binds text and numbers only (parameter $${n})`);
  });
}

const COPY_SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/**
 * The first column of the first row of `select`, as PostgreSQL's binary COPY sends it: raw bytes,
 * where a plain query would deliver a bytea as hex text. Rides node-postgres's query queue as a
 * submittable, the way pg-copy-streams does.
 */
function copyOutBytes(client: pg.ClientBase, select: string): Promise<Uint8Array | null> {
  return new Promise((resolve, reject) => {
    // The protocol parser reuses its buffer: a message's bytes are copied before the next arrives.
    const parts: Buffer[] = [];
    const copy = {
      submit: (connection: { query(text: string): void }) => connection.query(`COPY (${select}) TO STDOUT WITH (FORMAT binary)`),
      handleCopyData: (msg: { chunk: Buffer }) => parts.push(Buffer.from(msg.chunk)),
      handleReadyForQuery: () => {
        try {
          resolve(firstValueOfBinaryCopy(parts.length === 1 ? parts[0]! : Buffer.concat(parts)));
        } catch (error) {
          reject(error as Error);
        }
      },
      // The client forgets a query once it has failed: no readyForQuery follows for it.
      handleError: (error: Error) => reject(error),
      handleCommandComplete: () => undefined,
      handleRowDescription: () => undefined,
      handleDataRow: () => undefined,
      handleEmptyQuery: () => undefined,
      handlePortalSuspended: () => undefined,
    };
    client.query(copy as unknown as pg.Submittable);
  });
}

/** Binary COPY: signature, flags, header extension; then per row a field count (-1 ends) and length-prefixed fields. */
export function firstValueOfBinaryCopy(data: Buffer): Uint8Array | null {
  if (data.length < 19 || !data.subarray(0, 11).equals(COPY_SIGNATURE)) throw new Error('not a binary COPY stream');
  let at = 19 + data.readInt32BE(15);
  const fields = data.readInt16BE(at);
  if (fields === -1) return null;
  if (fields < 1) throw new Error(`a binary COPY row with ${fields} fields`);
  const length = data.readInt32BE(at + 2);
  if (length === -1) return null;
  at += 6;
  if (at + length > data.length) throw new Error('a binary COPY field runs past the end of the stream');
  return data.subarray(at, at + length);
}
