import { encodeSoftLabels, MAX_K, tokenIdsChecksum } from '../../src-node/soft-labels';
import type { LabelledDocument } from '../miner/ports';
import { batchInputs, packBatches, type Batch, type TokenizedDocument } from './batcher';
import type { BatchInputs } from './batcher';
import { OutOfMemoryError, type TopKOutput } from './teacher-session';
import type { MistralTokenizer } from '../../src-node/tokenizer';

/**
 * One task through the whole pipeline: tokenize (BOS, no EOS, right-truncated to seqLen), pack into
 * batches by the token budget, run, cut each row back to its document's tokens, encode with the
 * soft-label codec. Encoding a batch overlaps the next forward pass (ONNX Runtime runs off the JS
 * thread). A GPU out-of-memory halves the budget and re-packs what is left; labels are never dropped.
 */
export interface LabelTask {
  taskId: string;
  k: number;
  seqLen: number;
  documents: { docId: string; text: string }[];
}

/** The part of TeacherSession the pipeline uses (tests drive it with fakes that run out of memory). */
export interface TopKRunner {
  readonly modelHash: string;
  run(inputs: BatchInputs, k: number): Promise<TopKOutput>;
}

export interface LabelOptions {
  maxBatchTokens: number;
  /** Checked between forward passes. */
  isCancelled?: () => boolean;
  onProgress?: (p: { tokensDone: number; tokensTotal: number }) => void;
  /** Each batch's records, with their index in the task, as soon as they are encoded (while the next batch runs). */
  onEncoded?: (docs: (LabelledDocument & { index: number })[]) => void;
  /** Told when an out-of-memory error made the pipeline shrink its budget. */
  onBatchTokens?: (maxBatchTokens: number, reason: string) => void;
}

export interface LabelStats {
  /** From the task's arrival to its last record encoded. */
  wallMs: number;
  forwardMs: number;
  hostBytes: number;
  /** Real token positions labelled. */
  positions: number;
  /** Positions run, padding included. */
  paddedPositions: number;
  batches: number;
  /** The budget in force at the end (smaller than asked after an out-of-memory). */
  maxBatchTokens: number;
}

export class LabelCancelledError extends Error {
  override readonly name = 'LabelCancelledError';
  constructor() {
    super('labelling was cancelled');
  }
}

function checkTaskShape(task: Pick<LabelTask, 'k' | 'seqLen'>): void {
  if (!Number.isInteger(task.k) || task.k < 1 || task.k > MAX_K)
    throw new RangeError(`k is ${task.k}; it must be an integer from 1 to ${MAX_K}.`);
  if (!Number.isInteger(task.seqLen) || task.seqLen < 1) throw new RangeError(`seqLen is ${task.seqLen}; it must be a positive integer.`);
}

interface RowOutput {
  doc: TokenizedDocument;
  logprobs: Float32Array;
  ids: Int32Array;
}

function cutRows(batch: Batch, out: TopKOutput, k: number): RowOutput[] {
  return batch.docs.map((doc, r) => {
    const start = r * batch.width * k;
    const end = start + doc.tokens.length * k;
    return { doc, logprobs: out.logprobs.subarray(start, end), ids: out.ids.subarray(start, end) };
  });
}

/** One document's soft-label record, as the validator receives it. */
function encodeRow(task: LabelTask, modelHash: string, { doc, logprobs, ids }: RowOutput): LabelledDocument {
  const docId = task.documents[doc.index]!.docId;
  const header = {
    taskId: task.taskId,
    docId,
    modelHash,
    k: task.k,
    positions: doc.tokens.length,
    tokenIdsChecksum: tokenIdsChecksum(doc.tokens),
  };
  return { docId, tokenCount: doc.tokens.length, encoded: encodeSoftLabels({ header, topkIds: ids, topkLogprobs: logprobs }) };
}

/**
 * The task's documents, tokenized on demand: only enough for the first batches up front, the rest
 * while the first forward pass runs, so the device does not wait for the whole task's tokenization.
 */
class LazyTokenized {
  readonly waiting: TokenizedDocument[] = [];
  tokensTotal = 0;
  private upTo = 0;

  constructor(
    private readonly task: LabelTask,
    private readonly tokenizer: MistralTokenizer,
  ) {}

  until(tokens: number): void {
    const docs = this.task.documents;
    for (; this.upTo < docs.length && this.tokensTotal < tokens; this.upTo++) {
      const doc = { index: this.upTo, tokens: this.tokenizer.encode(docs[this.upTo]!.text, this.task.seqLen) };
      this.tokensTotal += doc.tokens.length;
      this.waiting.push(doc);
    }
  }

  /** The best-packed next batch of what is left, taken out of the queue. */
  takeBatch(maxBatchTokens: number): Batch {
    // Repacked every pass: cheap for a task's few hundred documents, and always the best packing
    // of what is left (after more tokenization or a smaller budget).
    const batch = packBatches(this.waiting, maxBatchTokens)[0]!;
    const inBatch = new Set(batch.docs);
    this.waiting.splice(0, this.waiting.length, ...this.waiting.filter((d) => !inBatch.has(d)));
    return batch;
  }
}

/** Out of device memory: halve the batch budget and put the batch back, or say why one document cannot fit. */
function shrinkAfterOom(error: OutOfMemoryError, batch: Batch, stats: LabelStats, opts: LabelOptions, queue: TokenizedDocument[]): void {
  if (batch.docs.length === 1) {
    throw new OutOfMemoryError(
      `${error.message}; one document of ${batch.width} tokens does not fit on this device even alone: lower the task's sequence length or use a smaller model variant.`,
    );
  }
  stats.maxBatchTokens = Math.max(1, Math.floor(Math.min(stats.maxBatchTokens, batch.docs.length * batch.width) / 2));
  opts.onBatchTokens?.(stats.maxBatchTokens, error.message);
  queue.push(...batch.docs);
}

function countBatch(stats: LabelStats, batch: Batch, out: TopKOutput): number {
  stats.forwardMs += out.forwardMs;
  stats.hostBytes += out.hostBytes;
  stats.batches += 1;
  stats.paddedPositions += batch.docs.length * batch.width;
  const positions = batch.docs.reduce((sum, doc) => sum + doc.tokens.length, 0);
  stats.positions += positions;
  return positions;
}

export async function labelTask(
  runner: TopKRunner,
  tokenizer: MistralTokenizer,
  task: LabelTask,
  opts: LabelOptions,
): Promise<{ docs: LabelledDocument[]; stats: LabelStats }> {
  checkTaskShape(task);
  const started = performance.now();
  const stats: LabelStats = {
    wallMs: 0,
    forwardMs: 0,
    hostBytes: 0,
    positions: 0,
    paddedPositions: 0,
    batches: 0,
    maxBatchTokens: opts.maxBatchTokens,
  };
  const results: LabelledDocument[] = new Array(task.documents.length);
  const encode = (rows: RowOutput[]) => {
    const encoded = rows.map((row) => {
      const labelled = encodeRow(task, runner.modelHash, row);
      results[row.doc.index] = labelled;
      return { index: row.doc.index, ...labelled };
    });
    opts.onEncoded?.(encoded);
  };

  const docs = new LazyTokenized(task, tokenizer);
  docs.until(stats.maxBatchTokens);
  let tokensDone = 0;
  let previous: RowOutput[] | null = null;
  while (docs.waiting.length > 0) {
    if (opts.isCancelled?.()) throw new LabelCancelledError();
    const batch = docs.takeBatch(stats.maxBatchTokens);
    const running = runner.run(batchInputs(batch, tokenizer.eosId), task.k);
    // The previous batch is encoded while this one runs on the device.
    if (previous) encode(previous);
    previous = null;
    docs.until(Number.POSITIVE_INFINITY);
    let out: TopKOutput;
    try {
      out = await running;
    } catch (error) {
      if (!(error instanceof OutOfMemoryError)) throw error;
      shrinkAfterOom(error, batch, stats, opts, docs.waiting);
      continue;
    }
    tokensDone += countBatch(stats, batch, out);
    previous = cutRows(batch, out, task.k);
    opts.onProgress?.({ tokensDone, tokensTotal: docs.tokensTotal });
  }
  if (previous) encode(previous);
  stats.wallMs = performance.now() - started;
  return { docs: results, stats };
}
