/**
 * Packing tokenized documents into forward batches. A batch is rows × its longest row in tokens
 * (right padding), and that product stays within the token budget, so the device is filled without
 * running out of memory. Documents go longest first, which keeps rows of a batch of similar length
 * and the padding small. Pure: the same input gives the same batches.
 */
export interface TokenizedDocument {
  /** Index of the document in its task. */
  index: number;
  tokens: Int32Array;
}

export interface Batch {
  docs: TokenizedDocument[];
  /** Longest row: every row is padded on the right to this. */
  width: number;
}

export function packBatches(docs: TokenizedDocument[], maxBatchTokens: number): Batch[] {
  const order = [...docs].sort((a, b) => b.tokens.length - a.tokens.length || a.index - b.index);
  const batches: Batch[] = [];
  let current: Batch | null = null;
  for (const doc of order) {
    // Sorted longest first, so the first row of a batch sets its width.
    if (current && (current.docs.length + 1) * current.width <= maxBatchTokens) {
      current.docs.push(doc);
    } else {
      // A document longer than the budget still gets a batch of its own: its labels need
      // the whole sequence in one pass.
      current = { docs: [doc], width: doc.tokens.length };
      batches.push(current);
    }
  }
  return batches;
}

export interface BatchInputs {
  rows: number;
  width: number;
  inputIds: BigInt64Array;
  /** 1 for a real token, 0 for padding. */
  attentionMask: BigInt64Array;
  /** 0..n-1 along each row's real tokens; padding continues the count (it is masked anyway). */
  positionIds: BigInt64Array;
}

/** Right-padded row-major tensors for one batch; padding uses `padId` (any id, it is masked). */
export function batchInputs(batch: Batch, padId: number): BatchInputs {
  const { width } = batch;
  const rows = batch.docs.length;
  const inputIds = new BigInt64Array(rows * width).fill(BigInt(padId));
  const attentionMask = new BigInt64Array(rows * width);
  const positionIds = new BigInt64Array(rows * width);
  batch.docs.forEach((doc, r) => {
    const base = r * width;
    for (let i = 0; i < width; i++) positionIds[base + i] = BigInt(i);
    for (let i = 0; i < doc.tokens.length; i++) {
      inputIds[base + i] = BigInt(doc.tokens[i]!);
      attentionMask[base + i] = 1n;
    }
  });
  return { rows, width, inputIds, attentionMask, positionIds };
}
