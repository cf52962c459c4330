import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BlobFiles } from './blob-files';
import { PostgresDriver } from './postgres-driver';
import { SqliteDriver } from './sqlite-driver';
import { openSqlStore } from './sql-store';
import type { Store } from './store';

export const SQLITE_FILE = 'validator.sqlite';
const RESULTS_DIR = 'results';

/**
 * PostgreSQL when a postgres:// URL is given, else a SQLite file in `dataDir`.
 * `backgroundCheckpoints`: SQLite checkpoints in a thread of their own (a busy `nya validator`).
 */
export async function openStore(opts: {
  dataDir: string;
  databaseUrl?: string | null;
  backgroundCheckpoints?: boolean;
  onWarning?: (message: string) => void;
}): Promise<Store> {
  if (opts.databaseUrl) {
    if (!/^postgres(ql)?:\/\//.test(opts.databaseUrl)) {
      throw new Error(`--database-url must start with postgres:// or postgresql:// (got '${opts.databaseUrl.split(':')[0]}:...').`);
    }
    return openSqlStore(new PostgresDriver(opts.databaseUrl));
  }
  mkdirSync(opts.dataDir, { recursive: true });
  const driver = new SqliteDriver(join(opts.dataDir, SQLITE_FILE), {
    backgroundCheckpoints: opts.backgroundCheckpoints,
    onWarning: opts.onWarning,
  });
  return openSqlStore(driver, new BlobFiles(join(opts.dataDir, RESULTS_DIR)));
}
