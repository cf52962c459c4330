import { LOGPROB_STEP, MAX_TOKEN_ID_EXCLUSIVE, SoftLabelsError } from '../../src-node/soft-labels';
import { MASS_TOLERANCE, SAMPLED_ROWS_PER_DOCUMENT } from '../config';
import { readRowCodes, type ParsedRecord } from './record-rows';

export interface ExpectedDocument {
  docId: string;
  tokens: number;
  tokenIdsChecksum: number;
}

export interface ExpectedTask {
  taskId: string;
  k: number;
  modelHash: string;
  documents: ExpectedDocument[];
  vocabSize: number;
}

export type StructureCheck = { ok: true } | { ok: false; reason: string };

// Log-probs are whole multiples of LOGPROB_STEP (codes of 13 bits), so exp() is a table look-up.
const EXP_OF_CODE = (() => {
  const table = new Float64Array(1 << 13);
  for (let c = 0; c < table.length; c++) table[c] = Math.exp(-c * LOGPROB_STEP);
  return table;
})();

// Sampled rows, reused across calls (the validator checks on one thread): no garbage per document.
let sampleIds = new Int32Array(SAMPLED_ROWS_PER_DOCUMENT * 16);
let sampleCodes = new Int32Array(SAMPLED_ROWS_PER_DOCUMENT * 16);

// Per-position "seen" marks without clearing: each position gets a fresh stamp.
const seen = new Int32Array(MAX_TOKEN_ID_EXCLUSIVE);
let stampCounter = 0;
function nextStamp(): number {
  if (++stampCounter === 0x7fffffff) {
    seen.fill(0);
    stampCounter = 1;
  }
  return stampCounter;
}

/**
 * Everything a result must satisfy on its own, before any comparison: it answers this task's
 * documents in order, with this task's model and k, one row per token the validator's own
 * tokenization has (same checksum); and on the sampled rows (`rows[i]` for document i, drawn at
 * random after the upload: `sampleRows`), ids inside the vocabulary, no id twice, log-probs sorted
 * (<= 0 by construction of the codec) and a top-k mass of at most one.
 */
export function checkStructure(records: ParsedRecord[], task: ExpectedTask, sampled: readonly ArrayLike<number>[]): StructureCheck {
  if (records.length !== task.documents.length) {
    return { ok: false, reason: `the result has ${records.length} documents; the task has ${task.documents.length}` };
  }
  for (let i = 0; i < records.length; i++) {
    const header = records[i]!.header;
    const doc = task.documents[i]!;
    const where = `document ${i} (${doc.docId})`;
    if (header.taskId !== task.taskId) return { ok: false, reason: `${where} is labelled for task '${header.taskId}'` };
    if (header.docId !== doc.docId) return { ok: false, reason: `${where} carries document id '${header.docId}'` };
    if (header.modelHash !== task.modelHash)
      return { ok: false, reason: `${where} was labelled by model ${header.modelHash.slice(0, 12)}…, not the task's` };
    if (header.k !== task.k) return { ok: false, reason: `${where} has k ${header.k}; the task asks for ${task.k}` };
    if (header.positions !== doc.tokens) {
      return { ok: false, reason: `${where} has ${header.positions} positions; the document has ${doc.tokens} tokens` };
    }
    if (header.tokenIdsChecksum !== doc.tokenIdsChecksum) {
      return { ok: false, reason: `${where}'s token-id checksum differs from the validator's tokenization` };
    }
    const k = header.k;
    const rows = sampled[i]!;
    if (rows.length > 0 && rows[rows.length - 1]! >= header.positions)
      throw new RangeError(`sampled row ${rows[rows.length - 1]} is outside document ${i}`);
    const cells = rows.length * k;
    if (sampleIds.length < cells) {
      sampleIds = new Int32Array(cells);
      sampleCodes = new Int32Array(cells);
    }
    const topkIds = sampleIds;
    try {
      readRowCodes(records[i]!, rows, topkIds, sampleCodes);
    } catch (error) {
      if (error instanceof SoftLabelsError) return { ok: false, reason: `${where}: ${error.message}` };
      throw error;
    }
    for (let c = 0; c < cells; c++) {
      if (topkIds[c]! >= task.vocabSize)
        return { ok: false, reason: `${where} has token id ${topkIds[c]} outside the vocabulary of ${task.vocabSize}` };
    }
    for (let p = 0, base = 0; p < rows.length; p++, base += k) {
      let mass = 0;
      for (let r = 0; r < k; r++) mass += EXP_OF_CODE[sampleCodes[base + r]!]!;
      if (mass > 1 + MASS_TOLERANCE) {
        return { ok: false, reason: `${where} sampled row ${p}: the top-${k} probabilities sum to ${mass.toFixed(3)} (> 1)` };
      }
      const stamp = nextStamp();
      for (let r = 0; r < k; r++) {
        const id = topkIds[base + r]!;
        if (seen[id] === stamp) return { ok: false, reason: `${where} sampled row ${p} repeats token id ${id}` };
        seen[id] = stamp;
      }
    }
  }
  return { ok: true };
}
