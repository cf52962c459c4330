import { LOGPROB_STEP, MAX_TOKEN_ID_EXCLUSIVE, type SoftLabels } from '../../src-shared/soft-labels';
import { MASS_TOLERANCE } from '../config';

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

// Decoded log-probs are exact multiples of LOGPROB_STEP, so exp() is a table look-up.
const EXP_OF_CODE = (() => {
  const table = new Float64Array(1 << 13);
  for (let c = 0; c < table.length; c++) table[c] = Math.exp(-c * LOGPROB_STEP);
  return table;
})();

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
 * tokenization has (same checksum), ids inside the vocabulary and a top-k mass of at most one.
 * (Log-probs <= 0 and sorted rows are guaranteed by the codec's decoder.)
 */
export function checkStructure(labels: SoftLabels[], task: ExpectedTask): StructureCheck {
  if (labels.length !== task.documents.length) {
    return { ok: false, reason: `the result has ${labels.length} documents; the task has ${task.documents.length}` };
  }
  for (let i = 0; i < labels.length; i++) {
    const { header, topkIds, topkLogprobs } = labels[i]!;
    const doc = task.documents[i]!;
    const where = `document ${i} (${doc.docId})`;
    if (header.taskId !== task.taskId) return { ok: false, reason: `${where} is labelled for task '${header.taskId}'` };
    if (header.docId !== doc.docId) return { ok: false, reason: `${where} carries document id '${header.docId}'` };
    if (header.modelHash !== task.modelHash) return { ok: false, reason: `${where} was labelled by model ${header.modelHash.slice(0, 12)}…, not the task's` };
    if (header.k !== task.k) return { ok: false, reason: `${where} has k ${header.k}; the task asks for ${task.k}` };
    if (header.positions !== doc.tokens) {
      return { ok: false, reason: `${where} has ${header.positions} positions; the document has ${doc.tokens} tokens` };
    }
    if (header.tokenIdsChecksum !== doc.tokenIdsChecksum) {
      return { ok: false, reason: `${where}'s token-id checksum differs from the validator's tokenization` };
    }
    for (let c = 0; c < topkIds.length; c++) {
      if (topkIds[c]! >= task.vocabSize) return { ok: false, reason: `${where} has token id ${topkIds[c]} outside the vocabulary of ${task.vocabSize}` };
    }
    const k = header.k;
    for (let p = 0, base = 0; p < header.positions; p++, base += k) {
      let mass = 0;
      for (let r = 0; r < k; r++) mass += EXP_OF_CODE[Math.round(-topkLogprobs[base + r]! / LOGPROB_STEP)]!;
      if (mass > 1 + MASS_TOLERANCE) {
        return { ok: false, reason: `${where} position ${p}: the top-${k} probabilities sum to ${mass.toFixed(3)} (> 1)` };
      }
      const stamp = nextStamp();
      for (let r = 0; r < k; r++) {
        const id = topkIds[base + r]!;
        if (seen[id] === stamp) return { ok: false, reason: `${where} position ${p} repeats token id ${id}` };
        seen[id] = stamp;
      }
    }
  }
  return { ok: true };
}
