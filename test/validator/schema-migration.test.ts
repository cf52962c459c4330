import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, SQLITE_FILE } from '../../src-validator/store/open-store';
import { SCHEMA_VERSION } from '../../src-validator/store/schema';

// The documents table as schema version 1 wrote it (texts inline).
const V1_DOCUMENTS = `
CREATE TABLE schema_version (version INTEGER NOT NULL);
INSERT INTO schema_version (version) VALUES (1);
CREATE TABLE documents (seq INTEGER PRIMARY KEY AUTOINCREMENT, doc_id TEXT NOT NULL UNIQUE, url TEXT, text TEXT NOT NULL,
  token_estimate INTEGER, state TEXT NOT NULL DEFAULT 'queued', tok_seq_len INTEGER, tokens INTEGER, checksum BIGINT, added_at_ms BIGINT NOT NULL);
CREATE INDEX documents_ready ON documents (state, tok_seq_len, seq);
INSERT INTO documents (doc_id, url, text, added_at_ms) VALUES ('<urn:a>', 'https://a.example', 'first text', 1), ('<urn:b>', NULL, 'second text', 2);
`;

describe('validator schema migrations', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  function v1Database(): string {
    const dir = mkdtempSync(join(tmpdir(), 'nya-schema-'));
    dirs.push(dir);
    const db = new Database(join(dir, SQLITE_FILE));
    db.exec(V1_DOCUMENTS);
    db.close();
    return dir;
  }

  it('moves version-1 texts out of the documents table and keeps every document', async () => {
    const dir = v1Database();
    const store = await openStore({ dataDir: dir });
    try {
      expect((await store.untokenizedDocuments(64, 10)).map((d) => [d.docId, d.text])).toEqual([
        ['<urn:a>', 'first text'],
        ['<urn:b>', 'second text'],
      ]);
      expect(await store.addDocuments([{ docId: '<urn:a>', url: null, text: 'again' }, { docId: '<urn:c>', url: null, text: 'third text' }])).toBe(1);
    } finally {
      await store.close();
    }
    const db = new Database(join(dir, SQLITE_FILE), { readonly: true });
    try {
      expect(db.prepare('SELECT version FROM schema_version').get()).toEqual({ version: SCHEMA_VERSION });
      const columns = (db.prepare('PRAGMA table_info(documents)').all() as { name: string }[]).map((c) => c.name);
      expect(columns).not.toContain('text');
      expect(db.prepare('SELECT COUNT(*) AS n FROM document_texts').get()).toEqual({ n: 3 });
    } finally {
      db.close();
    }
  });

  it('opens a migrated database again without migrating twice', async () => {
    const dir = v1Database();
    await (await openStore({ dataDir: dir })).close();
    const store = await openStore({ dataDir: dir });
    try {
      expect(await store.untokenizedDocuments(64, 10)).toHaveLength(2);
    } finally {
      await store.close();
    }
  });

  it('refuses a database written by a newer validator, unchanged', async () => {
    const dir = v1Database();
    const db = new Database(join(dir, SQLITE_FILE));
    db.prepare('UPDATE schema_version SET version = ?').run(SCHEMA_VERSION + 1);
    db.close();
    await expect(openStore({ dataDir: dir })).rejects.toThrow(/newer validator/);
  });
});
