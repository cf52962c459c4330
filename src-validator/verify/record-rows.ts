import { crc32 } from 'node:zlib';
import { decodeSoftLabelsHeader, SoftLabelsError, type SoftLabelsHeader } from '../../src-node/soft-labels';
import { SAMPLED_ROWS_PER_DOCUMENT } from '../config';

/**
 * Random access to the rows of an encoded soft-label record, for a validator that checks a
 * random sample of positions instead of decoding millions of cells per second. The CRC still
 * covers every byte (zlib's CRC-32, as the codec in `src-node/soft-labels.ts`), so what is
 * stored is exactly what was signed; the sample is drawn after the upload, so a miner cannot know
 * which rows will be looked at. Layout: docs/SOFT-LABELS.md (two 28-bit cells per 7 bytes).
 */
export interface ParsedRecord {
  header: SoftLabelsHeader;
  bytes: Uint8Array;
  bodyStart: number;
  /** Over `bytes`: one unaligned 32-bit load per cell instead of four byte loads. */
  view: DataView;
}

const FIXED_HEADER_BYTES = 48;
const CRC_BYTES = 4;

function bodyBytes(cells: number): number {
  return 7 * Math.floor(cells / 2) + 4 * (cells % 2);
}

/** Header, exact length and CRC of one record. Throws SoftLabelsError. */
export function parseRecord(bytes: Uint8Array): ParsedRecord {
  const header = decodeSoftLabelsHeader(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const taskIdBytes = view.getUint16(FIXED_HEADER_BYTES, true);
  const bodyStart = FIXED_HEADER_BYTES + 4 + taskIdBytes + view.getUint16(FIXED_HEADER_BYTES + 2 + taskIdBytes, true);
  const total = bodyStart + bodyBytes(header.k * header.positions) + CRC_BYTES;
  if (bytes.length !== total) {
    throw new SoftLabelsError(
      bytes.length < total ? 'truncated' : 'trailing-bytes',
      `the record is ${bytes.length} bytes; its header says ${total}.`,
    );
  }
  if (crc32(bytes.subarray(0, total - CRC_BYTES)) !== view.getUint32(total - CRC_BYTES, true)) {
    throw new SoftLabelsError('crc-mismatch', 'CRC-32 mismatch: the record is corrupted.');
  }
  return { header, bytes, bodyStart, view };
}

// Written and never read on purpose: a sink for the prefetch pass's loads (below), so the
// compiler cannot drop them.
// eslint-disable-next-line @typescript-eslint/no-unused-vars
let prefetched = 0;

// A pair of cells is 7 bytes: the even cell is the low 28 bits of bytes 0-3, the odd one the high
// 28 bits of bytes 3-6 (both little-endian).
function cellAt(view: DataView, bodyStart: number, cell: number): number {
  const o = bodyStart + 7 * (cell >>> 1);
  return (cell & 1) === 0 ? view.getUint32(o, true) & 0x0fffffff : view.getUint32(o + 3, true) >>> 4;
}

/**
 * The given rows' token ids and log-prob codes (-log-prob / LOGPROB_STEP, whole numbers) into
 * the caller's arrays (at least rows.length * k long), for checks that need no floats. Throws
 * SoftLabelsError('unsorted') for a row the decoder would refuse.
 */
export function readRowCodes(record: ParsedRecord, rows: ArrayLike<number>, ids: Int32Array, codes: Int32Array): void {
  const { k } = record.header;
  const { bytes, view, bodyStart } = record;
  // A first pass that only loads each row's first and last byte: its loads do not wait on one
  // another, so the CPU has many rows in flight from memory at once, and the decoding pass below
  // finds them in cache. The rows lie scattered over megabytes, and fetched one at a time each
  // waited for memory (`nya bench checks`: the agreement check of 64 documents took ~6 ms, now ~3).
  let touched = 0;
  const rowBytes = (7 * k) >>> 1;
  for (let i = 0; i < rows.length; i++) {
    const o = bodyStart + ((7 * rows[i]! * k) >>> 1);
    touched = (touched + bytes[o]! + bytes[Math.min(o + rowBytes, bytes.length - 1)]!) | 0;
  }
  prefetched = touched; // Kept, so the compiler cannot drop the loads.
  for (let i = 0, out = 0; i < rows.length; i++) {
    const first = rows[i]! * k;
    let prevCode = -1;
    for (let r = 0; r < k; r++, out++) {
      const cell = cellAt(view, bodyStart, first + r);
      const code = cell >>> 15;
      if (code < prevCode) throw new SoftLabelsError('unsorted', `log-probs at position ${rows[i]} are not sorted descending.`);
      prevCode = code;
      ids[out] = cell & 0x7fff;
      codes[out] = code;
    }
  }
}

/**
 * `count` positions in [0, positions), one drawn uniformly from each of `count` equal strata:
 * sorted and distinct by construction, and spread over the whole document. All positions when
 * there are no more than `count`.
 */
export function samplePositions(positions: number, count: number, random: () => number): Int32Array {
  if (positions <= count) return Int32Array.from({ length: positions }, (_, i) => i);
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const start = Math.floor((i * positions) / count);
    const end = Math.floor(((i + 1) * positions) / count);
    out[i] = start + Math.floor(random() * (end - start));
  }
  return out;
}

/**
 * SAMPLED_ROWS_PER_DOCUMENT rows of each document (by its position count), drawn by the caller's
 * random source. Drawn on the thread that owns the random source, so the checks themselves are
 * pure functions of bytes and rows and can run on any thread.
 */
export function sampleRows(positionsPerDocument: readonly number[], random: () => number): Int32Array[] {
  return positionsPerDocument.map((positions) => samplePositions(positions, SAMPLED_ROWS_PER_DOCUMENT, random));
}
