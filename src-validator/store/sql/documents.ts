import type { SqlDriver, SqlExecutor } from '../sql-driver';
import type { DocumentTokenization, NewDocument, QueuedDocument, ReadyDocument } from '../store';
import { num, placeholders, str } from './row-values';

/** The document queue inside a transaction: what leasing takes from it and gives back. */
export class DocumentQueueRows {
  constructor(private readonly ex: SqlExecutor) {}

  async readyDocumentsForUpdate(seqLen: number, limit: number): Promise<ReadyDocument[]> {
    const rows = await this.ex.all(
      `SELECT seq, doc_id, tokens, checksum FROM documents WHERE state = 'queued' AND tok_seq_len = ? ORDER BY seq LIMIT ? {skipLocked}`,
      [seqLen, limit],
    );
    return rows.map((r) => ({ seq: num(r.seq), docId: str(r.doc_id), tokens: num(r.tokens), tokenIdsChecksum: num(r.checksum) }));
  }

  async markDocumentsAssigned(docIds: string[]): Promise<void> {
    if (docIds.length) await this.ex.run(`UPDATE documents SET state = 'assigned' WHERE doc_id IN (${placeholders(docIds)})`, docIds);
  }

  async requeueDocuments(docIds: string[]): Promise<void> {
    if (docIds.length) await this.ex.run(`UPDATE documents SET state = 'queued' WHERE doc_id IN (${placeholders(docIds)})`, docIds);
  }
}

/** Filling the queue: documents in, their tokenizations, its depth. Each call is its own transaction. */
export class DocumentIntake {
  constructor(private readonly driver: SqlDriver) {}

  async addDocuments(docs: NewDocument[]): Promise<number> {
    const now = Date.now();
    return this.driver.transaction(async (ex) => {
      let added = 0;
      for (const d of docs) {
        const inserted = await ex.run(
          'INSERT INTO documents (doc_id, url, token_estimate, added_at_ms) VALUES (?, ?, ?, ?) ON CONFLICT (doc_id) DO NOTHING',
          [d.docId, d.url, d.tokenCount ?? null, now],
        );
        if (inserted) await ex.run('INSERT INTO document_texts (doc_id, text) VALUES (?, ?)', [d.docId, d.text]);
        added += inserted;
      }
      return added;
    });
  }

  async untokenizedDocuments(seqLen: number, limit: number): Promise<QueuedDocument[]> {
    const rows = await this.driver.all(
      `SELECT d.doc_id, t.text FROM documents d JOIN document_texts t ON t.doc_id = d.doc_id
       WHERE d.state = 'queued' AND (d.tok_seq_len IS NULL OR d.tok_seq_len <> ?) ORDER BY d.seq LIMIT ?`,
      [seqLen, limit],
    );
    return rows.map((r) => ({ docId: str(r.doc_id), text: str(r.text) }));
  }

  async setTokenizations(seqLen: number, rows: DocumentTokenization[]): Promise<void> {
    await this.driver.transaction(async (ex) => {
      for (const r of rows) {
        await ex.run('UPDATE documents SET tok_seq_len = ?, tokens = ?, checksum = ? WHERE doc_id = ?', [
          seqLen,
          r.tokens,
          r.tokenIdsChecksum,
          r.docId,
        ]);
      }
    });
  }

  async requeueSettledDocuments(docIds: string[]): Promise<number> {
    if (docIds.length === 0) return 0;
    return this.driver.transaction((ex) =>
      ex.run(
        `UPDATE documents SET state = 'queued' WHERE state = 'assigned' AND doc_id IN (${placeholders(docIds)})
         AND doc_id NOT IN (SELECT td.doc_id FROM task_docs td JOIN tasks t ON t.task_id = td.task_id WHERE t.state IN ('open', 'checking'))`,
        docIds,
      ),
    );
  }

  async checkingTaskIds(): Promise<string[]> {
    const rows = await this.driver.all(`SELECT task_id FROM tasks WHERE state = 'checking' ORDER BY created_at_ms, task_id`);
    return rows.map((r) => str(r.task_id));
  }

  async queueDepth(): Promise<{ queued: number; openTasks: number }> {
    const q = await this.driver.all(`SELECT COUNT(*) AS n FROM documents WHERE state = 'queued'`);
    const t = await this.driver.all(`SELECT COUNT(*) AS n FROM tasks WHERE state IN ('open', 'checking')`);
    return { queued: num(q[0]!.n), openTasks: num(t[0]!.n) };
  }
}
