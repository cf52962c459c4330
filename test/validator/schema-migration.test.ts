import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, SQLITE_FILE } from '../../src-validator/store/open-store';
import { PostgresDriver } from '../../src-validator/store/postgres-driver';
import { SCHEMA_VERSION } from '../../src-validator/store/schema';
import type { SqlDriver } from '../../src-validator/store/sql-driver';
import { SqliteDriver } from '../../src-validator/store/sqlite-driver';
import type { Store } from '../../src-validator/store/store';
import { freshPostgresDatabase, STORE_KINDS } from './harness';

// The documents table as schema version 1 wrote it (texts inline), in the drivers' neutral SQL.
const V1_DOCUMENTS = `
CREATE TABLE schema_version (version INTEGER NOT NULL);
INSERT INTO schema_version (version) VALUES (1);
CREATE TABLE documents (seq {serial}, doc_id TEXT NOT NULL UNIQUE, url TEXT, text TEXT NOT NULL,
  token_estimate INTEGER, state TEXT NOT NULL DEFAULT 'queued', tok_seq_len INTEGER, tokens INTEGER, checksum BIGINT, added_at_ms BIGINT NOT NULL);
CREATE INDEX documents_ready ON documents (state, tok_seq_len, seq);
INSERT INTO documents (doc_id, url, text, added_at_ms) VALUES ('<urn:a>', 'https://a.example', 'first text', 1), ('<urn:b>', NULL, 'second text', 2);
`;

interface Database {
  driver(): SqlDriver;
  open(): Promise<Store>;
  drop(): Promise<void>;
}

async function database(kind: 'sqlite' | 'postgres'): Promise<Database> {
  if (kind === 'postgres') {
    const db = await freshPostgresDatabase();
    return { driver: () => new PostgresDriver(db.url), open: () => openStore({ dataDir: '', databaseUrl: db.url }), drop: db.drop };
  }
  const dir = mkdtempSync(join(tmpdir(), 'nya-schema-'));
  return {
    driver: () => new SqliteDriver(join(dir, SQLITE_FILE)),
    open: () => openStore({ dataDir: dir }),
    drop: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

async function withDriver<T>(db: Database, fn: (driver: SqlDriver) => Promise<T>): Promise<T> {
  const driver = db.driver();
  try {
    return await fn(driver);
  } finally {
    await driver.close();
  }
}

async function documentColumns(driver: SqlDriver): Promise<string[]> {
  const rows =
    driver.dialect === 'sqlite'
      ? await driver.all('PRAGMA table_info(documents)')
      : await driver.all("SELECT column_name AS name FROM information_schema.columns WHERE table_name = 'documents'");
  return rows.map((r) => String(r.name));
}

describe.each(STORE_KINDS)('validator schema migrations on %s', (kind) => {
  let db: Database | null = null;
  afterEach(async () => {
    await db?.drop();
    db = null;
  });

  async function v1Database(): Promise<Database> {
    db = await database(kind);
    await withDriver(db, (driver) => driver.exec(V1_DOCUMENTS));
    return db;
  }

  it('moves version-1 texts out of the documents table and keeps every document', async () => {
    const v1 = await v1Database();
    const store = await v1.open();
    try {
      expect((await store.untokenizedDocuments(64, 10)).map((d) => [d.docId, d.text])).toEqual([
        ['<urn:a>', 'first text'],
        ['<urn:b>', 'second text'],
      ]);
      expect(
        await store.addDocuments([
          { docId: '<urn:a>', url: null, text: 'again' },
          { docId: '<urn:c>', url: null, text: 'third text' },
        ]),
      ).toBe(1);
    } finally {
      await store.close();
    }
    await withDriver(v1, async (driver) => {
      expect((await driver.all('SELECT version FROM schema_version')).map((r) => Number(r.version))).toEqual([SCHEMA_VERSION]);
      expect(await documentColumns(driver)).not.toContain('text');
      expect(Number((await driver.all('SELECT COUNT(*) AS n FROM document_texts'))[0]!.n)).toBe(3);
    });
  });

  it('opens a migrated database again without migrating twice', async () => {
    const v1 = await v1Database();
    await (await v1.open()).close();
    const store = await v1.open();
    try {
      expect(await store.untokenizedDocuments(64, 10)).toHaveLength(2);
    } finally {
      await store.close();
    }
  });

  it('brings a version-2 database to the current version: expired leases have somewhere to count', async () => {
    db = await database(kind);
    await (await db.open()).close();
    await withDriver(db!, async (driver) => {
      await driver.exec('DROP TABLE lease_standing; DROP INDEX leases_miner;');
      await driver.run('UPDATE schema_version SET version = ?', [2]);
    });
    const store = await db.open();
    try {
      await store.setLeaseStanding('5miner', { strikes: 2, coolDownUntilMs: 7 });
      expect(await store.leaseStandingForUpdate('5miner')).toEqual({ strikes: 2, coolDownUntilMs: 7 });
    } finally {
      await store.close();
    }
    await withDriver(db, async (driver) =>
      expect((await driver.all('SELECT version FROM schema_version')).map((r) => Number(r.version))).toEqual([SCHEMA_VERSION]),
    );
  });

  it('brings a version-3 database to the current version with the epochs it published kept', async () => {
    db = await database(kind);
    const old = await db.open();
    expect(await old.claimEpochPublication(41, 1)).toBe(true);
    await old.close();
    await withDriver(db, (driver) => driver.run('UPDATE schema_version SET version = ?', [3]));
    const store = await db.open();
    try {
      expect(await store.claimEpochPublication(41, 2)).toBe(false);
      expect(await store.claimEpochPublication(42, 2)).toBe(true);
    } finally {
      await store.close();
    }
    await withDriver(db, async (driver) =>
      expect((await driver.all('SELECT version FROM schema_version')).map((r) => Number(r.version))).toEqual([SCHEMA_VERSION]),
    );
  });

  it('brings a version-5 database to the current version: its tasks keep no variant, new tasks name theirs', async () => {
    db = await database(kind);
    await (await db.open()).close();
    const validated = async (driver: SqlDriver, taskId: string) =>
      driver.run(
        "INSERT INTO results (task_id, miner, submitted_at_ms, body_sha256, tokens, status, response_json, body) VALUES (?, 'm', 1, 'x', 10, 'validated', '{}', ?)",
        [taskId, Buffer.from([1, 2, 3])],
      );
    await withDriver(db, async (driver) => {
      await driver.exec('DROP TABLE task_variants;');
      await driver.run('UPDATE schema_version SET version = ?', [5]);
      await driver.run(
        "INSERT INTO tasks (task_id, created_at_ms, k, seq_len, model_hash, tokens, quorum, state) VALUES ('t-old', 1, 16, 64, ?, 10, 2, 'validated')",
        ['ab'.repeat(32)],
      );
      await validated(driver, 't-old');
    });
    const store = await db.open();
    try {
      const task = {
        taskId: 't-new',
        createdAtMs: 2,
        k: 16,
        seqLen: 64,
        modelHash: 'cd'.repeat(32),
        tokens: 10,
        quorum: 2,
        state: 'open' as const,
      };
      await store.transaction((tx) => tx.insertTask(task, 'test-int4', []));
    } finally {
      await store.close();
    }
    await withDriver(db, (driver) => validated(driver, 't-new'));
    const reopened = await db.open();
    try {
      const all = await reopened.validatedResults(null, 10);
      expect(all.map((r) => [r.taskId, r.variant, r.modelHash])).toEqual([
        ['t-new', 'test-int4', 'cd'.repeat(32)],
        ['t-old', null, 'ab'.repeat(32)],
      ]);
      expect((await reopened.validatedResults(null, 10, 'test-int4')).map((r) => r.taskId)).toEqual(['t-new']);
    } finally {
      await reopened.close();
    }
    await withDriver(db, async (driver) =>
      expect((await driver.all('SELECT version FROM schema_version')).map((r) => Number(r.version))).toEqual([SCHEMA_VERSION]),
    );
  });

  it('refuses a database written by a newer validator, unchanged', async () => {
    const v1 = await v1Database();
    await withDriver(v1, (driver) => driver.run('UPDATE schema_version SET version = ?', [SCHEMA_VERSION + 1]));
    await expect(v1.open()).rejects.toThrow(/newer validator/);
    await withDriver(v1, async (driver) => expect(await documentColumns(driver)).toContain('text'));
  });
});
