import * as zlib from 'node:zlib';
import type { CompressionCodec, Compressors } from 'hyparquet';

type Inflate = (input: Uint8Array) => Buffer;

/**
 * hyparquet decodes SNAPPY (what datatrove writes FineWeb with) and UNCOMPRESSED itself; the
 * codecs Node's zlib knows are added here so shards re-written by other tools (pyarrow defaults,
 * `duckdb COPY ... (COMPRESSION zstd)`) read too. ZSTD is in zlib from Node 22.15/23.8 only;
 * where it is missing the codec stays unsupported and the reader says so before reading.
 */
export function parquetDecompressors(): Compressors {
  const zstd = (zlib as unknown as { zstdDecompressSync?: Inflate }).zstdDecompressSync;
  const compressors: Compressors = {
    GZIP: (input) => toUint8(zlib.gunzipSync(input)),
    BROTLI: (input) => toUint8(zlib.brotliDecompressSync(input)),
  };
  if (zstd) compressors.ZSTD = (input) => toUint8(zstd(input));
  return compressors;
}

export function supportedCodecs(compressors: Compressors): Set<CompressionCodec> {
  const codecs = new Set<CompressionCodec>(['UNCOMPRESSED', 'SNAPPY']);
  for (const codec of Object.keys(compressors) as CompressionCodec[]) codecs.add(codec);
  return codecs;
}

function toUint8(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}
