import { decodeResultBundle, decodeSoftLabels, tokenIdsChecksum } from '../src-node/soft-labels';
import type { ExportRecord } from './export/write-dataset';
import type { Store } from './store/store';
import type { Tokenizer } from './tasks/tokenizer';

const PAGE = 64;

/**
 * The validated soft labels as export records, one per document of each validated task (one
 * copy per task). Every record is decoded in full here (the validator only sampled rows when it
 * accepted it), and the token ids are re-derived from the stored text with the tokenizer the
 * checksums were made with; a mismatch stops the export rather than publish a wrong row.
 * `variant`: only that teacher variant's labels (null: all).
 */
export async function* validatedRecords(store: Store, tokenizer: Tokenizer, variant: string | null = null): AsyncGenerator<ExportRecord> {
  let after: string | null = null;
  for (;;) {
    const page = await store.validatedResults(after, PAGE, variant);
    if (page.length === 0) return;
    for (const result of page) {
      const docs = await store.transaction((tx) => tx.taskDocuments(result.taskId));
      const urls = await store.taskDocumentUrls(result.taskId);
      const records = decodeResultBundle(result.body);
      for (let i = 0; i < records.length; i++) {
        const labels = decodeSoftLabels(records[i]!);
        const doc = docs[i]!;
        const seqLen = labels.header.positions;
        const ids = tokenizer.encode(doc.text, doc.tokens);
        if (ids.length !== seqLen || tokenIdsChecksum(ids) !== labels.header.tokenIdsChecksum) {
          throw new Error(
            `Task ${result.taskId}, document ${doc.docId}: the tokenizer no longer reproduces the validated token ids; export with the tokenizer the validator used (--model DIR).`,
          );
        }
        yield {
          docId: doc.docId,
          url: urls.get(doc.docId) ?? null,
          taskId: result.taskId,
          modelHash: result.modelHash,
          variant: result.variant,
          k: result.k,
          tokenIds: ids,
          topkIds: labels.topkIds,
          topkLogprobs: labels.topkLogprobs,
        };
      }
    }
    after = page[page.length - 1]!.taskId;
  }
}
