import { crc32 } from 'node:zlib';

/**
 * The soft-label codec: what a miner submits and what the open data set is made of. One record
 * holds one document's top-k next-token log-probabilities at every position. `docs/SOFT-LABELS.md`
 * gives the layout byte by byte (and a numpy decoder); keep the two in step.
 *
 * Each (position, rank) cell is 28 bits: a 15-bit token id (Mistral v0.3's vocabulary is exactly
 * 2^15) and a 13-bit log-probability code, `logprob = -code / 128`. Two cells pack into 7 bytes,
 * 3.5 bytes per cell against the seed's 30-40 bytes of JSON. A power-of-two step makes every
 * decoded value exact in float32, so the only error is the rounding, at most 1/256 nats.
 */
export const SOFT_LABELS_VERSION = 1;
/** Quantisation step of the log-probabilities, in nats (2^-7). */
export const LOGPROB_STEP = 1 / 128;
/** Worst-case |decoded - original| for log-probs in [LOGPROB_FLOOR, 0]: half a step. */
export const MAX_LOGPROB_ERROR = LOGPROB_STEP / 2;
const MAX_LOGPROB_CODE = (1 << 13) - 1;
/**
 * The lowest representable log-prob, -8191/128 ≈ -63.99 nats (probability ≈ 1.6e-28). Lower
 * values, -Infinity included, saturate to it. The seed sent fp16 probabilities, which cannot
 * hold anything below e^-16.6, so nothing a student could learn from is lost.
 */
export const LOGPROB_FLOOR = -MAX_LOGPROB_CODE * LOGPROB_STEP;
/** Ids are 15-bit: every id must be below this. */
export const MAX_TOKEN_ID_EXCLUSIVE = 1 << 15;
export const MAX_K = 64;
/** Far above any context length in use (Mistral v0.3: 32768); bounds what a decoder allocates. */
const MAX_POSITIONS = 1 << 20;
/** Task and document ids are short strings (FineWeb ids are ~47 bytes). */
const MAX_ID_BYTES = 1024;
/** On-wire cost of one (position, rank) cell, header and CRC excluded. */
export const BYTES_PER_CELL = 3.5;

const RECORD_MAGIC = 0x4c53594e; // "NYSL" read as a little-endian u32
const BUNDLE_MAGIC = 0x4253594e; // "NYSB"
const FIXED_HEADER_BYTES = 48;
const CRC_BYTES = 4;
/**
 * LogSoftmax in fp16 can come out a hair above zero; values up to one step above are rounding
 * noise and encode as 0, anything larger means the caller passed something other than log-probs.
 */
const POSITIVE_TOLERANCE = LOGPROB_STEP;

export interface SoftLabelsHeader {
  taskId: string;
  docId: string;
  /** Lowercase hex SHA-256 of the teacher model that produced the labels. */
  modelHash: string;
  k: number;
  positions: number;
  /** `tokenIdsChecksum()` of the document's token ids (BOS included). */
  tokenIdsChecksum: number;
}

export interface SoftLabels {
  header: SoftLabelsHeader;
  /** positions × k, row-major; per position sorted by log-prob, descending. */
  topkIds: Int32Array;
  /** positions × k, each <= 0. */
  topkLogprobs: Float32Array;
}

export type SoftLabelsErrorReason =
  | 'bad-magic'
  | 'bad-version'
  | 'bad-header'
  | 'truncated'
  | 'trailing-bytes'
  | 'crc-mismatch'
  | 'out-of-range'
  | 'unsorted'
  | 'shape-mismatch';

export class SoftLabelsError extends Error {
  override readonly name = 'SoftLabelsError';
  constructor(
    readonly reason: SoftLabelsErrorReason,
    message: string,
  ) {
    super(message);
  }
}

// TextEncoder/TextDecoder exist in every runtime we ship to (Node, Electron, browsers) but not
// in the ES2022 lib that src-shared compiles against.
interface Utf8Codec {
  TextEncoder: new () => { encode(text: string): Uint8Array };
  TextDecoder: new (label: string, options: { fatal: boolean }) => { decode(bytes: Uint8Array): string };
}
const utf8 = globalThis as unknown as Utf8Codec;
const encoder = new utf8.TextEncoder();
const strictDecoder = new utf8.TextDecoder('utf-8', { fatal: true });

function bodyBytes(cells: number): number {
  return 7 * Math.floor(cells / 2) + 4 * (cells % 2);
}

function hexToBytes(hex: string, into: Uint8Array, offset: number): void {
  for (let i = 0; i < 32; i++) into[offset + i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
}

function bytesToHex(bytes: Uint8Array, offset: number): string {
  let hex = '';
  for (let i = 0; i < 32; i++) hex += bytes[offset + i]!.toString(16).padStart(2, '0');
  return hex;
}

function checkShape(k: number, positions: number): void {
  if (!Number.isInteger(k) || k < 1 || k > MAX_K) {
    throw new SoftLabelsError('out-of-range', `k is ${k}; it must be an integer from 1 to ${MAX_K}.`);
  }
  if (!Number.isInteger(positions) || positions < 0 || positions > MAX_POSITIONS) {
    throw new SoftLabelsError('out-of-range', `positions is ${positions}; it must be an integer from 0 to ${MAX_POSITIONS}.`);
  }
}

function encodeId(label: string, value: string): Uint8Array {
  const bytes = encoder.encode(value);
  if (bytes.length > MAX_ID_BYTES) {
    throw new SoftLabelsError('out-of-range', `${label} is ${bytes.length} bytes of UTF-8; at most ${MAX_ID_BYTES} fit.`);
  }
  return bytes;
}

/** Quantise one log-prob to its 13-bit code, or throw if it is not a log-prob at all. */
function logprobCode(logprob: number, cell: number): number {
  if (!(logprob <= POSITIVE_TOLERANCE)) {
    throw new SoftLabelsError('out-of-range', `log-prob ${logprob} at cell ${cell} is not a log-probability (must be <= 0 and not NaN).`);
  }
  const code = Math.round(-logprob / LOGPROB_STEP);
  return code <= 0 ? 0 : code > MAX_LOGPROB_CODE ? MAX_LOGPROB_CODE : code;
}

function tokenCell(ids: Int32Array, logprobs: Float32Array, cell: number): number {
  const id = ids[cell]!;
  if (id < 0 || id >= MAX_TOKEN_ID_EXCLUSIVE) {
    throw new SoftLabelsError('out-of-range', `token id ${id} at cell ${cell} is outside 0..${MAX_TOKEN_ID_EXCLUSIVE - 1}.`);
  }
  return id | (logprobCode(logprobs[cell]!, cell) << 15);
}

/** Encode one document's labels as one self-checking record. Throws SoftLabelsError. */
export function encodeSoftLabels(labels: SoftLabels): Uint8Array {
  const { header, topkIds, topkLogprobs } = labels;
  const { k, positions } = header;
  checkShape(k, positions);
  const cells = k * positions;
  if (topkIds.length !== cells || topkLogprobs.length !== cells) {
    throw new SoftLabelsError(
      'shape-mismatch',
      `expected ${positions} positions × k ${k} = ${cells} ids and log-probs, got ${topkIds.length} ids and ${topkLogprobs.length} log-probs.`,
    );
  }
  if (!/^[0-9a-f]{64}$/.test(header.modelHash)) {
    throw new SoftLabelsError('bad-header', `model hash '${header.modelHash}' is not a lowercase hex SHA-256 (64 characters).`);
  }
  const checksum = header.tokenIdsChecksum;
  if (!Number.isInteger(checksum) || checksum < 0 || checksum > 0xffffffff) {
    throw new SoftLabelsError('out-of-range', `token-id checksum ${checksum} is not an unsigned 32-bit integer.`);
  }
  const taskId = encodeId('task id', header.taskId);
  const docId = encodeId('document id', header.docId);

  const bodyStart = FIXED_HEADER_BYTES + 2 + taskId.length + 2 + docId.length;
  const total = bodyStart + bodyBytes(cells) + CRC_BYTES;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, RECORD_MAGIC, true);
  out[4] = SOFT_LABELS_VERSION;
  out[5] = k;
  view.setUint16(6, 0, true);
  view.setUint32(8, positions, true);
  view.setUint32(12, checksum, true);
  hexToBytes(header.modelHash, out, 16);
  view.setUint16(FIXED_HEADER_BYTES, taskId.length, true);
  out.set(taskId, FIXED_HEADER_BYTES + 2);
  view.setUint16(FIXED_HEADER_BYTES + 2 + taskId.length, docId.length, true);
  out.set(docId, FIXED_HEADER_BYTES + 4 + taskId.length);

  checkSortedCodes(topkLogprobs, k, positions, true);
  let o = bodyStart;
  let c = 0;
  for (; c + 1 < cells; c += 2) {
    const a = tokenCell(topkIds, topkLogprobs, c);
    const b = tokenCell(topkIds, topkLogprobs, c + 1);
    out[o] = a;
    out[o + 1] = a >>> 8;
    out[o + 2] = a >>> 16;
    out[o + 3] = (a >>> 24) | (b << 4);
    out[o + 4] = b >>> 4;
    out[o + 5] = b >>> 12;
    out[o + 6] = b >>> 20;
    o += 7;
  }
  if (c < cells) {
    const a = tokenCell(topkIds, topkLogprobs, c);
    view.setUint32(o, a, true);
    o += 4;
  }
  view.setUint32(o, crc32(out.subarray(0, o)), true);
  return out;
}

/**
 * Per position the log-probs must be sorted descending after quantisation (what TopK produces);
 * comparing codes, not raw floats, so ties that rounding creates are fine.
 */
function checkSortedCodes(logprobs: Float32Array, k: number, positions: number, quantise: boolean): void {
  for (let p = 0, base = 0; p < positions; p++, base += k) {
    let prev = quantise ? logprobCode(logprobs[base]!, base) : logprobs[base]!;
    for (let r = 1; r < k; r++) {
      const v = quantise ? logprobCode(logprobs[base + r]!, base + r) : logprobs[base + r]!;
      if (quantise ? v < prev : v > prev) {
        throw new SoftLabelsError(
          'unsorted',
          `log-probs at position ${p} are not sorted descending (rank ${r - 1} ${logprobs[base + r - 1]}, rank ${r} ${logprobs[base + r]}).`,
        );
      }
      prev = v;
    }
  }
}

interface RecordLayout {
  k: number;
  positions: number;
  taskIdStart: number;
  taskIdBytes: number;
  docIdStart: number;
  docIdBytes: number;
  bodyStart: number;
  total: number;
}

function readLayout(bytes: Uint8Array, offset = 0): RecordLayout {
  const available = bytes.length - offset;
  if (available < FIXED_HEADER_BYTES + 4 + CRC_BYTES) {
    throw new SoftLabelsError(
      'truncated',
      `a soft-label record is at least ${FIXED_HEADER_BYTES + 4 + CRC_BYTES} bytes; got ${available}.`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, available);
  if (view.getUint32(0, true) !== RECORD_MAGIC) {
    throw new SoftLabelsError('bad-magic', 'the bytes do not start with "NYSL": not a soft-label record.');
  }
  const version = view.getUint8(4);
  if (version !== SOFT_LABELS_VERSION) {
    throw new SoftLabelsError(
      'bad-version',
      `soft-label format version ${version} is not supported (this build reads ${SOFT_LABELS_VERSION}).`,
    );
  }
  const k = view.getUint8(5);
  const positions = view.getUint32(8, true);
  checkShape(k, positions);
  if (view.getUint16(6, true) !== 0) {
    throw new SoftLabelsError('bad-header', 'reserved header bytes 6-7 are not zero.');
  }
  const taskIdBytes = view.getUint16(FIXED_HEADER_BYTES, true);
  const docIdLenAt = FIXED_HEADER_BYTES + 2 + taskIdBytes;
  if (docIdLenAt + 2 > available) {
    throw new SoftLabelsError('truncated', `the record ends inside its task id (${available} bytes).`);
  }
  const docIdBytes = view.getUint16(docIdLenAt, true);
  if (taskIdBytes > MAX_ID_BYTES || docIdBytes > MAX_ID_BYTES) {
    throw new SoftLabelsError(
      'out-of-range',
      `task id (${taskIdBytes} bytes) or document id (${docIdBytes} bytes) is over ${MAX_ID_BYTES} bytes.`,
    );
  }
  const bodyStart = docIdLenAt + 2 + docIdBytes;
  const total = bodyStart + bodyBytes(k * positions) + CRC_BYTES;
  return { k, positions, taskIdStart: FIXED_HEADER_BYTES + 2, taskIdBytes, docIdStart: docIdLenAt + 2, docIdBytes, bodyStart, total };
}

function readHeader(bytes: Uint8Array, layout: RecordLayout): SoftLabelsHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  let taskId: string;
  let docId: string;
  try {
    taskId = strictDecoder.decode(bytes.subarray(layout.taskIdStart, layout.taskIdStart + layout.taskIdBytes));
    docId = strictDecoder.decode(bytes.subarray(layout.docIdStart, layout.docIdStart + layout.docIdBytes));
  } catch {
    throw new SoftLabelsError('bad-header', 'the task id or document id is not valid UTF-8.');
  }
  return {
    taskId,
    docId,
    modelHash: bytesToHex(bytes, 16),
    k: layout.k,
    positions: layout.positions,
    tokenIdsChecksum: view.getUint32(12, true),
  };
}

/**
 * Read only the header (no CRC check, body untouched): enough to route or reject a record
 * before paying for a full decode. Throws SoftLabelsError.
 */
export function decodeSoftLabelsHeader(bytes: Uint8Array): SoftLabelsHeader {
  const layout = readLayout(bytes);
  if (bytes.length < layout.bodyStart) {
    throw new SoftLabelsError('truncated', `the record ends inside its header (${bytes.length} of ${layout.bodyStart} bytes).`);
  }
  return readHeader(bytes, layout);
}

/** Decode and check one record. Throws SoftLabelsError on anything malformed or corrupted. */
export function decodeSoftLabels(bytes: Uint8Array): SoftLabels {
  const layout = readLayout(bytes);
  if (bytes.length < layout.total) {
    throw new SoftLabelsError('truncated', `the record is ${bytes.length} bytes; its header says ${layout.total}.`);
  }
  if (bytes.length > layout.total) {
    throw new SoftLabelsError('trailing-bytes', `the record is ${bytes.length} bytes; its header says ${layout.total}.`);
  }
  const crcAt = layout.total - CRC_BYTES;
  const stored = new DataView(bytes.buffer, bytes.byteOffset, bytes.length).getUint32(crcAt, true);
  const actual = crc32(bytes.subarray(0, crcAt));
  if (stored !== actual) {
    throw new SoftLabelsError(
      'crc-mismatch',
      `CRC-32 mismatch (stored ${hex32(stored)}, computed ${hex32(actual)}): the record is corrupted.`,
    );
  }
  const header = readHeader(bytes, layout);
  const cells = layout.k * layout.positions;
  const topkIds = new Int32Array(cells);
  const topkLogprobs = new Float32Array(cells);
  let o = layout.bodyStart;
  let c = 0;
  for (; c + 1 < cells; c += 2) {
    const b3 = bytes[o + 3]!;
    const a = bytes[o]! | (bytes[o + 1]! << 8) | (bytes[o + 2]! << 16) | ((b3 & 0x0f) << 24);
    const b = (b3 >>> 4) | (bytes[o + 4]! << 4) | (bytes[o + 5]! << 12) | (bytes[o + 6]! << 20);
    topkIds[c] = a & 0x7fff;
    topkLogprobs[c] = 0 - (a >>> 15) * LOGPROB_STEP;
    topkIds[c + 1] = b & 0x7fff;
    topkLogprobs[c + 1] = 0 - (b >>> 15) * LOGPROB_STEP;
    o += 7;
  }
  if (c < cells) {
    if ((bytes[o + 3]! & 0xf0) !== 0) {
      throw new SoftLabelsError('out-of-range', 'the padding bits of the last cell are not zero.');
    }
    const a = bytes[o]! | (bytes[o + 1]! << 8) | (bytes[o + 2]! << 16) | (bytes[o + 3]! << 24);
    topkIds[c] = a & 0x7fff;
    topkLogprobs[c] = 0 - (a >>> 15) * LOGPROB_STEP;
  }
  checkSortedCodes(topkLogprobs, layout.k, layout.positions, false);
  return { header, topkIds, topkLogprobs };
}

function hex32(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

/** CRC-32 of the token ids written as unsigned 32-bit little-endian integers. */
export function tokenIdsChecksum(ids: ArrayLike<number>): number {
  const chunkIds = 4096;
  const buf = new Uint8Array(4 * Math.min(ids.length, chunkIds));
  let crc = 0;
  for (let start = 0; start < ids.length; start += chunkIds) {
    const end = Math.min(ids.length, start + chunkIds);
    for (let i = start, o = 0; i < end; i++, o += 4) {
      const id = ids[i]!;
      if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) {
        throw new SoftLabelsError('out-of-range', `token id ${id} at index ${i} is not an unsigned 32-bit integer.`);
      }
      buf[o] = id;
      buf[o + 1] = id >>> 8;
      buf[o + 2] = id >>> 16;
      buf[o + 3] = id >>> 24;
    }
    crc = crc32(buf.subarray(0, 4 * (end - start)), crc);
  }
  return crc;
}

/**
 * Many encoded records in one body: "NYSB", version, 3 zero bytes, u32 count, then per record
 * a u32 byte length and the record. Each record carries its own CRC; the lengths must account for
 * every byte, so a damaged length or count is caught too.
 */
export function encodeResultBundle(docs: Uint8Array[]): Uint8Array {
  let total = 12;
  for (const doc of docs) total += 4 + doc.length;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, BUNDLE_MAGIC, true);
  out[4] = SOFT_LABELS_VERSION;
  view.setUint32(8, docs.length, true);
  let o = 12;
  for (const doc of docs) {
    view.setUint32(o, doc.length, true);
    out.set(doc, o + 4);
    o += 4 + doc.length;
  }
  return out;
}

/** Split a bundle into its records (views into `bytes`, not copies). Throws SoftLabelsError. */
export function decodeResultBundle(bytes: Uint8Array): Uint8Array[] {
  if (bytes.length < 12) {
    throw new SoftLabelsError('truncated', `a result bundle is at least 12 bytes; got ${bytes.length}.`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  if (view.getUint32(0, true) !== BUNDLE_MAGIC) {
    throw new SoftLabelsError('bad-magic', 'the bytes do not start with "NYSB": not a result bundle.');
  }
  if (bytes[4] !== SOFT_LABELS_VERSION) {
    throw new SoftLabelsError(
      'bad-version',
      `result bundle version ${bytes[4]} is not supported (this build reads ${SOFT_LABELS_VERSION}).`,
    );
  }
  if (bytes[5] !== 0 || bytes[6] !== 0 || bytes[7] !== 0) {
    throw new SoftLabelsError('bad-header', 'reserved bundle header bytes 5-7 are not zero.');
  }
  const count = view.getUint32(8, true);
  // Every record takes at least its length prefix plus a minimal record; a count claiming more
  // than the bytes can hold is damage, not a reason to allocate.
  if (count > (bytes.length - 12) / (4 + FIXED_HEADER_BYTES + 4 + CRC_BYTES)) {
    throw new SoftLabelsError('truncated', `the bundle claims ${count} records but is only ${bytes.length} bytes.`);
  }
  const docs: Uint8Array[] = [];
  let o = 12;
  for (let i = 0; i < count; i++) {
    if (o + 4 > bytes.length) throw new SoftLabelsError('truncated', `the bundle ends before record ${i}'s length.`);
    const length = view.getUint32(o, true);
    if (o + 4 + length > bytes.length) {
      throw new SoftLabelsError('truncated', `record ${i} claims ${length} bytes but the bundle ends first.`);
    }
    if (length < 4 || view.getUint32(o + 4, true) !== RECORD_MAGIC) {
      throw new SoftLabelsError('bad-magic', `record ${i} of the bundle does not start with "NYSL".`);
    }
    docs.push(bytes.subarray(o + 4, o + 4 + length));
    o += 4 + length;
  }
  if (o !== bytes.length) {
    throw new SoftLabelsError('trailing-bytes', `the bundle has ${bytes.length - o} bytes after its ${count} records.`);
  }
  return docs;
}
