import { fromHalfBits, toHalfBits } from './half';
import { INT4_BLOCK_SIZE } from './mistral-graph';

/**
 * A projection quantized for `com.microsoft` `MatMulNBits` (bits 4, block size 32), as ONNX
 * Runtime's `MatMul4BitsQuantizer` writes it in its symmetric mode (MLAS `range2scale`): each block
 * of 32 weights along the input axis of one output column gets the fp16 scale `m / -8`, where `m` is
 * the block's value of largest magnitude, sign kept; weights become `clamp(round(w / scale) + 8, 0, 15)`
 * (round half away from zero), and no zero-point input is written (ONNX Runtime then assumes 8).
 * Layout: `packed` [N, K/32, 16] bytes, weight 2j of a block in the low nibble of byte j, 2j+1 in
 * the high one; `scales` [N · K/32] fp16 bits.
 */
export interface Int4Weights {
  packed: Uint8Array;
  scales: Uint16Array;
}

let halfValues: Float32Array | null = null;

/** Every fp16 bit pattern's value: quantizing 7 B weights reads each once. */
function halfTable(): Float32Array {
  halfValues ??= Float32Array.from({ length: 65536 }, (_, bits) => fromHalfBits(bits));
  return halfValues;
}

/** `weights`: fp16 bits of a [k, n] matrix stored row-major ([in, out], as the fp16 graph's MatMul reads it). */
export function quantizeInt4(weights: Uint16Array, k: number, n: number): Int4Weights {
  if (k % INT4_BLOCK_SIZE !== 0) throw new RangeError(`the input size ${k} is not a multiple of the int4 block size ${INT4_BLOCK_SIZE}`);
  const half = halfTable();
  const blocks = k / INT4_BLOCK_SIZE;
  const packed = new Uint8Array(n * blocks * (INT4_BLOCK_SIZE / 2));
  const scales = new Uint16Array(n * blocks);
  // Columns in tiles of 32 (one cache line of each input row), transposed so that each column's
  // blocks are read, and its packed bytes written, in order.
  const tile = Math.min(32, n);
  const columns = new Float32Array(tile * k);
  for (let c0 = 0; c0 < n; c0 += tile) {
    const width = Math.min(tile, n - c0);
    for (let row = 0; row < k; row++) {
      for (let c = 0, at = row * n + c0; c < width; c++, at++) columns[c * k + row] = half[weights[at]!]!;
    }
    for (let c = 0; c < width; c++) quantizeColumn(columns, c * k, blocks, packed, scales, (c0 + c) * blocks);
  }
  return { packed, scales };
}

/** One output column's blocks: `values` from `from` (k of them), written to block slots from `slot`. */
function quantizeColumn(values: Float32Array, from: number, blocks: number, packed: Uint8Array, scales: Uint16Array, slot: number): void {
  const half = halfTable();
  for (let b = 0, at = from; b < blocks; b++, at += INT4_BLOCK_SIZE) {
    let extreme = 0;
    for (let i = 0; i < INT4_BLOCK_SIZE; i++) {
      const v = values[at + i]!;
      if ((v < 0 ? -v : v) > (extreme < 0 ? -extreme : extreme)) extreme = v;
    }
    const scaleBits = toHalfBits(extreme / -8);
    scales[slot + b] = scaleBits;
    const scale = half[scaleBits]!;
    const inverse = scale === 0 ? 0 : 1 / scale;
    for (let i = 0, out = (slot + b) * (INT4_BLOCK_SIZE / 2); i < INT4_BLOCK_SIZE; i += 2, out++) {
      packed[out] = quantum(values[at + i]! * inverse) | (quantum(values[at + i + 1]! * inverse) << 4);
    }
  }
}

/** Round half away from zero (C's roundf, as MLAS does), add the zero point 8, clamp to 4 bits. */
function quantum(scaled: number): number {
  const q = (scaled < 0 ? Math.ceil(scaled - 0.5) : Math.floor(scaled + 0.5)) + 8;
  return q > 15 ? 15 : q < 0 ? 0 : q;
}
