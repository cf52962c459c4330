import pg from 'pg';
import { translate, type SqlDriver, type SqlExecutor, type SqlRow, type SqlValue } from './sql-driver';

const INT8_OID = 20;
const NUMERIC_OID = 1700;

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
      all: async (sql, params = []) => (await client.query(translate('postgres', sql), bind(params))).rows as SqlRow[],
      run: async (sql, params = []) => (await client.query(translate('postgres', sql), bind(params))).rowCount ?? 0,
    };
  }

  all(sql: string, params?: SqlValue[]): Promise<SqlRow[]> {
    return PostgresDriver.executor(this.pool).all(sql, params);
  }

  run(sql: string, params?: SqlValue[]): Promise<number> {
    return PostgresDriver.executor(this.pool).run(sql, params);
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

  async exec(script: string): Promise<void> {
    await this.pool.query(translate('postgres', script));
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

function bind(params: SqlValue[]): unknown[] {
  return params.map((p) => (p instanceof Uint8Array && !Buffer.isBuffer(p) ? Buffer.from(p.buffer, p.byteOffset, p.byteLength) : typeof p === 'bigint' ? p.toString() : p));
}
