import { MAX_K } from '../../src-node/soft-labels';

/** One validated document's soft labels, as the export writes it. */
export interface ExportRecord {
  docId: string;
  url: string | null;
  taskId: string;
  modelHash: string;
  /** The teacher variant's id; null for labels validated before validators recorded it. */
  variant: string | null;
  k: number;
  /** BOS first, no EOS; its length is the number of positions. */
  tokenIds: Int32Array;
  /** positions × k, row-major, most likely first. */
  topkIds: Int32Array;
  /** positions × k, matching topkIds. */
  topkLogprobs: Float32Array;
}

export class ExportRecordError extends Error {
  override readonly name = 'ExportRecordError';
  constructor(
    readonly docId: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Shape checks only: the validator checked the content when it accepted the result. A record
 * that fails here is a bug upstream, so the export stops rather than publish a row readers
 * cannot reshape.
 */
export function checkExportRecord(record: ExportRecord): void {
  const { docId, k, tokenIds, topkIds, topkLogprobs } = record;
  const fail = (why: string) => new ExportRecordError(docId, `Cannot export document ${JSON.stringify(docId)}: ${why}.`);
  if (typeof docId !== 'string' || docId.length === 0) throw fail('its document id is empty');
  if (!record.taskId) throw fail('its task id is empty');
  if (!record.modelHash) throw fail('its model hash is empty');
  if (!Number.isInteger(k) || k < 1 || k > MAX_K) throw fail(`k is ${k}, not an integer from 1 to ${MAX_K}`);
  const cells = tokenIds.length * k;
  if (topkIds.length !== cells || topkLogprobs.length !== cells) {
    throw fail(
      `${tokenIds.length} positions × k ${k} needs ${cells} top-k cells, ` +
        `but it has ${topkIds.length} ids and ${topkLogprobs.length} log-probs`,
    );
  }
}
