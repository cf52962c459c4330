import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  BYTES_PER_CELL,
  LOGPROB_FLOOR,
  LOGPROB_STEP,
  MAX_LOGPROB_ERROR,
  SOFT_LABELS_VERSION,
  SoftLabelsError,
  decodeResultBundle,
  decodeSoftLabels,
  decodeSoftLabelsHeader,
  encodeResultBundle,
  encodeSoftLabels,
  tokenIdsChecksum,
  type SoftLabels,
} from '../../src-node/soft-labels';
import { mulberry32 } from '../../src-shared/prng';

const rng = mulberry32;

const HASH = 'ab'.repeat(16) + '0123456789abcdef'.repeat(2);

/** Labels shaped like a teacher's: per position sorted descending, log-probs in (floor, 0]. */
function randomLabels(seed: number, positions: number, k: number, ids?: number[]): SoftLabels {
  const random = rng(seed);
  const topkIds = new Int32Array(positions * k);
  const topkLogprobs = new Float32Array(positions * k);
  for (let p = 0; p < positions; p++) {
    const row = Array.from({ length: k }, () => -random() * 40 * random()).sort((a, b) => b - a);
    for (let r = 0; r < k; r++) {
      topkIds[p * k + r] = Math.floor(random() * 32768);
      topkLogprobs[p * k + r] = row[r]!;
    }
  }
  return {
    header: {
      taskId: `task-${seed}`,
      docId: `<urn:uuid:${seed}-doc>`,
      modelHash: HASH,
      k,
      positions,
      tokenIdsChecksum: tokenIdsChecksum(ids ?? [1, 22, 333, seed & 0x7fff]),
    },
    topkIds,
    topkLogprobs,
  };
}

function expectReason(fn: () => unknown, reason: SoftLabelsError['reason']): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SoftLabelsError);
    expect((e as SoftLabelsError).reason).toBe(reason);
    expect((e as SoftLabelsError).message.length).toBeGreaterThan(10);
    return;
  }
  throw new Error(`expected SoftLabelsError '${reason}', nothing was thrown`);
}

/** Rewrite the trailing CRC so a deliberate edit reaches the checks behind it. */
function resealed(bytes: Uint8Array): Uint8Array {
  const copy = bytes.slice();
  new DataView(copy.buffer).setUint32(copy.length - 4, zlibCrc32(copy.subarray(0, copy.length - 4)), true);
  return copy;
}

/**
 * Bytes written by the hand-written slicing-by-8 CRC this codec used before it moved to
 * `node:zlib`'s: the wire format must not change with the implementation.
 */
describe('wire format, known vectors', () => {
  const record = [
    '4e59534c01020000030000009322e0b0',
    'ab'.repeat(32),
    '06007461736b2d310500646f632d370580069000000aff7f00000000782a0040b0020005f184eda6',
  ].join('');
  const labels: SoftLabels = {
    header: { taskId: 'task-1', docId: 'doc-7', modelHash: 'ab'.repeat(32), k: 2, positions: 3, tokenIdsChecksum: 0xb0e02293 },
    topkIds: Int32Array.from([5, 9, 32767, 0, 42, 43]),
    topkLogprobs: Float32Array.from([-0.1, -2.5, 0, -30, -1, -1.25]),
  };

  it('encodes a record to the same bytes, CRC included, and decodes them', () => {
    expect(Buffer.from(encodeSoftLabels(labels)).toString('hex')).toBe(record);
    expect(decodeSoftLabels(Uint8Array.from(Buffer.from(record, 'hex'))).header).toEqual(labels.header);
  });

  it('checksums token ids as before, across its 4096-id chunks', () => {
    expect(tokenIdsChecksum([1, 2, 3])).toBe(0xb0e02293);
    expect(tokenIdsChecksum(Array.from({ length: 5000 }, (_, i) => i * 6))).toBe(0x1ba39711);
  });
});

describe('tokenIdsChecksum', () => {
  it('is the CRC-32 of the ids as u32 little-endian', () => {
    const random = rng(3);
    const ids = Array.from({ length: 9000 }, () => Math.floor(random() * 32768));
    const bytes = new Uint8Array(new Uint32Array(ids).buffer); // the test machine is little-endian
    expect(tokenIdsChecksum(ids)).toBe(zlibCrc32(bytes));
    expect(tokenIdsChecksum(Int32Array.from(ids))).toBe(zlibCrc32(bytes));
    expect(tokenIdsChecksum([])).toBe(0);
    expect(tokenIdsChecksum([1, 2])).not.toBe(tokenIdsChecksum([2, 1]));
  });

  it('rejects values that are not u32', () => {
    expectReason(() => tokenIdsChecksum([1, -1]), 'out-of-range');
    expectReason(() => tokenIdsChecksum([1.5]), 'out-of-range');
  });
});

describe('soft-label record', () => {
  it('round-trips header and ids exactly, log-probs within the stated error', () => {
    for (const [positions, k] of [
      [0, 16],
      [1, 1],
      [3, 3],
      [7, 1],
      [1024, 16],
      [33, 64],
      [5, 63],
    ] as const) {
      const labels = randomLabels(positions * 100 + k, positions, k);
      const bytes = encodeSoftLabels(labels);
      const back = decodeSoftLabels(bytes);
      expect(back.header).toEqual(labels.header);
      expect(decodeSoftLabelsHeader(bytes)).toEqual(labels.header);
      expect(Array.from(back.topkIds)).toEqual(Array.from(labels.topkIds));
      for (let i = 0; i < labels.topkLogprobs.length; i++) {
        expect(Math.abs(back.topkLogprobs[i]! - labels.topkLogprobs[i]!)).toBeLessThanOrEqual(MAX_LOGPROB_ERROR);
        expect(back.topkLogprobs[i]! <= 0).toBe(true);
        expect(Object.is(back.topkLogprobs[i], -0)).toBe(false);
      }
      // Decoded values are exactly representable: re-encoding is the identity.
      expect(encodeSoftLabels(back)).toEqual(bytes);
    }
  });

  it('keeps unicode task and document ids', () => {
    const labels = randomLabels(1, 2, 2);
    labels.header.taskId = 'tâche-日本-🐱';
    labels.header.docId = '';
    expect(decodeSoftLabels(encodeSoftLabels(labels)).header).toEqual(labels.header);
  });

  it('measures the worst-case log-prob error over a million values within MAX_LOGPROB_ERROR <= 0.005', () => {
    expect(MAX_LOGPROB_ERROR).toBeLessThanOrEqual(0.005);
    const random = rng(11);
    const positions = 62_500;
    const k = 16;
    const labels = randomLabels(2, positions, k);
    for (let p = 0; p < positions; p++) {
      const row = Array.from({ length: k }, () => LOGPROB_FLOOR * random()).sort((a, b) => b - a);
      for (let r = 0; r < k; r++) labels.topkLogprobs[p * k + r] = row[r]!;
    }
    const back = decodeSoftLabels(encodeSoftLabels(labels));
    let worst = 0;
    for (let i = 0; i < labels.topkLogprobs.length; i++) {
      worst = Math.max(worst, Math.abs(back.topkLogprobs[i]! - labels.topkLogprobs[i]!));
    }
    expect(worst).toBeLessThanOrEqual(MAX_LOGPROB_ERROR);
    // A million uniform values land within 1 % of the half-step bound: the stated bound is the real one.
    expect(worst).toBeGreaterThan(MAX_LOGPROB_ERROR * 0.99);
  });

  it('saturates below the floor, clamps rounding noise above zero, rejects what is not a log-prob', () => {
    const labels = randomLabels(5, 1, 4);
    labels.topkLogprobs.set([1e-4, -1, -1000, -Infinity]);
    const back = decodeSoftLabels(encodeSoftLabels(labels));
    expect(Array.from(back.topkLogprobs)).toEqual([0, -1, LOGPROB_FLOOR, LOGPROB_FLOOR]);
    expect(LOGPROB_FLOOR).toBeCloseTo(-8191 * LOGPROB_STEP, 12);
    for (const bad of [0.5, Number.NaN, Infinity]) {
      labels.topkLogprobs.set([bad, -1, -2, -3]);
      expectReason(() => encodeSoftLabels(labels), 'out-of-range');
    }
  });

  it('rejects bad shapes, ids and hashes on encode', () => {
    const labels = randomLabels(9, 2, 3);
    expectReason(() => encodeSoftLabels({ ...labels, topkIds: labels.topkIds.subarray(1) }), 'shape-mismatch');
    for (const k of [0, 65, 1.5]) {
      expectReason(() => encodeSoftLabels({ ...labels, header: { ...labels.header, k } }), 'out-of-range');
    }
    for (const id of [32768, -1]) {
      const ids = labels.topkIds.slice();
      ids[4] = id;
      expectReason(() => encodeSoftLabels({ ...labels, topkIds: ids }), 'out-of-range');
    }
    expectReason(() => encodeSoftLabels({ ...labels, header: { ...labels.header, modelHash: HASH.toUpperCase() } }), 'bad-header');
    expectReason(() => encodeSoftLabels({ ...labels, header: { ...labels.header, modelHash: 'abc' } }), 'bad-header');
    expectReason(() => encodeSoftLabels({ ...labels, header: { ...labels.header, taskId: 'x'.repeat(1025) } }), 'out-of-range');
    expectReason(() => encodeSoftLabels({ ...labels, header: { ...labels.header, tokenIdsChecksum: -1 } }), 'out-of-range');
    const unsorted = labels.topkLogprobs.slice();
    unsorted.set([-2, -1], 3);
    expectReason(() => encodeSoftLabels({ ...labels, topkLogprobs: unsorted }), 'unsorted');
  });

  it('catches every single-byte corruption, every truncation and trailing bytes', () => {
    const bytes = encodeSoftLabels(randomLabels(21, 5, 3)); // 15 cells: odd, so the padded tail cell is covered
    const random = rng(4);
    for (let i = 0; i < bytes.length; i++) {
      for (const flip of [1, 0x80, 1 + Math.floor(random() * 255)]) {
        const bad = bytes.slice();
        bad[i]! ^= flip;
        expect(() => decodeSoftLabels(bad), `byte ${i} ^ ${flip}`).toThrow(SoftLabelsError);
      }
    }
    for (let n = 0; n < bytes.length; n++) {
      expect(() => decodeSoftLabels(bytes.subarray(0, n)), `truncated to ${n}`).toThrow(SoftLabelsError);
    }
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    expectReason(() => decodeSoftLabels(longer), 'trailing-bytes');
  });

  it('names the reason: magic, version, CRC, reserved bytes, sort order, padding', () => {
    const bytes = encodeSoftLabels(randomLabels(8, 3, 3));
    const edit = (at: number, value: number) => {
      const copy = bytes.slice();
      copy[at] = value;
      return resealed(copy);
    };
    expectReason(() => decodeSoftLabels(edit(0, 0x58)), 'bad-magic');
    expectReason(() => decodeSoftLabels(edit(4, SOFT_LABELS_VERSION + 1)), 'bad-version');
    expectReason(() => decodeSoftLabels(edit(6, 1)), 'bad-header');
    expectReason(() => decodeSoftLabels(edit(5, 0)), 'out-of-range');
    const crcBroken = bytes.slice();
    crcBroken[bytes.length - 1]! ^= 1;
    expectReason(() => decodeSoftLabels(crcBroken), 'crc-mismatch');
    // Body starts after the 48-byte fixed header and the two length-prefixed ids.
    const bodyStart = bytes.length - 4 - (7 * 4 + 4);
    const firstCellCode = edit(bodyStart + 3, bytes[bodyStart + 3]! & 0xf0); // rank 0 → code 0 is fine
    expect(() => decodeSoftLabels(firstCellCode)).not.toThrow();
    const secondCellMax = bytes.slice();
    secondCellMax[bodyStart + 6] = 0xff; // rank 1 → near the floor, then rank 2 must not be above it
    secondCellMax[bodyStart + 5] = 0xff;
    expectReason(() => decodeSoftLabels(resealed(secondCellMax)), 'unsorted');
    expectReason(() => decodeSoftLabels(edit(bytes.length - 5, bytes[bytes.length - 5]! | 0x10)), 'out-of-range');
  });

  it('costs 3.5 bytes per (position · k) plus a small header', () => {
    const labels = randomLabels(1, 1024, 16);
    const bytes = encodeSoftLabels(labels);
    const overhead = bytes.length - 1024 * 16 * BYTES_PER_CELL;
    expect(BYTES_PER_CELL).toBeLessThanOrEqual(3.5);
    expect(overhead).toBe(48 + 2 + labels.header.taskId.length + 2 + labels.header.docId.length + 4);
    expect(bytes.length / (1024 * 16)).toBeLessThan(3.51);
  });
});

describe('result bundle', () => {
  it('round-trips many records, including none', () => {
    const docs = [1, 2, 3].map((s) => encodeSoftLabels(randomLabels(s, s * 10, 16)));
    const back = decodeResultBundle(encodeResultBundle(docs));
    expect(back.map((d) => Array.from(d))).toEqual(docs.map((d) => Array.from(d)));
    expect(back.map((d) => decodeSoftLabels(d).header.taskId)).toEqual(['task-1', 'task-2', 'task-3']);
    expect(decodeResultBundle(encodeResultBundle([]))).toEqual([]);
  });

  it('catches damaged framing: magic, version, count, lengths, truncation, trailing bytes', () => {
    const docs = [encodeSoftLabels(randomLabels(1, 4, 2)), encodeSoftLabels(randomLabels(2, 3, 2))];
    const bundle = encodeResultBundle(docs);
    const edit = (at: number, delta: number) => {
      const copy = bundle.slice();
      copy[at] = (copy[at]! + delta) & 0xff;
      return copy;
    };
    expectReason(() => decodeResultBundle(edit(0, 1)), 'bad-magic');
    expectReason(() => decodeResultBundle(edit(4, 1)), 'bad-version');
    expectReason(() => decodeResultBundle(edit(5, 1)), 'bad-header');
    expect(() => decodeResultBundle(edit(8, 1))).toThrow(SoftLabelsError); // count + 1
    expectReason(() => decodeResultBundle(edit(8, -1)), 'trailing-bytes'); // count - 1
    expect(() => decodeResultBundle(edit(12, 1))).toThrow(SoftLabelsError); // first length + 1
    expect(() => decodeResultBundle(edit(12, -1))).toThrow(SoftLabelsError); // first length - 1
    for (let n = 0; n < bundle.length; n++) {
      expect(() => decodeResultBundle(bundle.subarray(0, n)), `truncated to ${n}`).toThrow(SoftLabelsError);
    }
    // A damaged record inside an intact frame is caught when it is decoded.
    const inner = bundle.slice();
    inner[40]! ^= 4;
    const [first] = decodeResultBundle(inner);
    expectReason(() => decodeSoftLabels(first!), 'crc-mismatch');
  });
});
