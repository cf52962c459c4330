import { MIGRATIONS, SCHEMA, SCHEMA_VERSION } from '../schema';
import type { IncompressibleColumn, SqlDriver } from '../sql-driver';
import { num } from './row-values';

/** Soft labels: a compressor only spends time on them. */
const INCOMPRESSIBLE: IncompressibleColumn[] = [{ table: 'results', column: 'body' }];

/**
 * Creates the schema in a new database and brings an older one to SCHEMA_VERSION; a database
 * written by a newer validator is closed and refused rather than misread.
 */
export async function prepareSchema(driver: SqlDriver): Promise<void> {
  await driver.createSchema(SCHEMA, INCOMPRESSIBLE);
  const rows = await driver.all('SELECT version FROM schema_version');
  if (rows.length === 0) return void (await driver.run('INSERT INTO schema_version (version) VALUES (?)', [SCHEMA_VERSION]));
  const version = num(rows[0]!.version);
  if (version > SCHEMA_VERSION) {
    await driver.close();
    throw new Error(`The database was written by a newer validator (schema ${version}; this one reads ${SCHEMA_VERSION}).`);
  }
  if (version < SCHEMA_VERSION) await migrate(driver);
}

/** One version per transaction, one process at a time: another may have migrated meanwhile. */
async function migrate(driver: SqlDriver): Promise<void> {
  for (let to = 2; to <= SCHEMA_VERSION; to++) {
    await driver.exclusiveTransaction(async (ex) => {
      const at = num((await ex.all('SELECT version FROM schema_version'))[0]!.version);
      if (at !== to - 1) return;
      for (const statement of MIGRATIONS[to] ?? []) await ex.run(statement);
      await ex.run('UPDATE schema_version SET version = ?', [to]);
    });
  }
}
