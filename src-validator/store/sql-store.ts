import type { BlobFiles } from './blob-files';
import type { SqlDriver, SqlExecutor } from './sql-driver';
import { MinerRows, MinerTokenRows } from './sql/accounts';
import { BodyRetentionRows } from './sql/body-retention';
import { CreditRows } from './sql/credits';
import { DocumentIntake, DocumentQueueRows } from './sql/documents';
import { joinMethods } from './sql/join-methods';
import { LeaderboardReads } from './sql/leaderboard';
import { LeaseStandingRows } from './sql/lease-standing';
import { MinerTrustRows } from './sql/miner-trust';
import { ResultHistory } from './sql/result-history';
import { ResultRows } from './sql/results';
import { prepareSchema } from './sql/schema-setup';
import { LeaseRows, TaskRows } from './sql/tasks';
import { TransactionBodies } from './sql/transaction-bodies';
import type { Store, StoreTx } from './store';

/** The aggregates a transaction works on, over its executor. */
function transactionParts(ex: SqlExecutor, blobs: BlobFiles | null, bodies: TransactionBodies) {
  return [
    new DocumentQueueRows(ex),
    new TaskRows(ex),
    new LeaseRows(ex),
    new LeaseStandingRows(ex),
    new ResultRows(ex, blobs, bodies),
    new BodyRetentionRows(ex, blobs, bodies),
    new MinerRows(ex),
    new MinerTrustRows(ex),
    new MinerTokenRows(ex),
    new CreditRows(ex),
  ] as const;
}

async function inTransaction<T>(driver: SqlDriver, blobs: BlobFiles | null, fn: (tx: StoreTx) => Promise<T>): Promise<T> {
  const opened: TransactionBodies[] = [];
  try {
    const out = await driver.transaction(async (ex) => {
      const bodies = new TransactionBodies(ex, blobs);
      opened.push(bodies);
      const value = await fn(joinMethods(...transactionParts(ex, blobs, bodies)));
      await bodies.flush();
      return value;
    });
    for (const bodies of opened) bodies.committed();
    return out;
  } catch (error) {
    for (const bodies of opened) bodies.rolledBack();
    throw error;
  }
}

/**
 * The Store over SQL: one class per aggregate (`sql/`), joined into the flat interface the
 * services use, in the neutral SQL each driver spells in its dialect.
 * `blobs`: keep result bodies as files (SQLite); null keeps them in the database.
 */
export async function openSqlStore(driver: SqlDriver, blobs: BlobFiles | null = null): Promise<Store> {
  await prepareSchema(driver);
  // The same primitives outside a transaction, as the Store interface offers them; a body inserted
  // there is never written (nothing inserts one outside a transaction).
  const direct = transactionParts(driver, blobs, new TransactionBodies(driver, blobs));
  return {
    kind: driver.dialect,
    ...joinMethods(...direct, new DocumentIntake(driver), new ResultHistory(driver, blobs), new LeaderboardReads(driver)),
    stagingPath: (taskId, miner) => (blobs ? blobs.stagingPath(taskId, miner) : null),
    discardStaged: (path) => blobs?.remove(blobs.relativeOf(path)),
    transaction: (fn) => inTransaction(driver, blobs, fn),
    close: () => driver.close(),
  };
}
