import type { CompressionCodec, Compressors } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';

/**
 * FineWeb is published SNAPPY (datatrove's pyarrow default), but shards re-written by other tools
 * arrive ZSTD (`duckdb COPY ... (COMPRESSION zstd)`, pyarrow `compression='zstd'`), GZIP or LZ4.
 * hyparquet-compressors is hyparquet's own codec set, pure JavaScript plus a small inline wasm
 * snappy, so the same codecs decode under Node 20 (whose zlib has no zstd) and inside Electron.
 * LZO is the one Parquet codec it lacks; the reader refuses such a shard before reading.
 */
export function parquetDecompressors(): Compressors {
  return compressors;
}

export function supportedCodecs(compressors: Compressors): Set<CompressionCodec> {
  const codecs = new Set<CompressionCodec>(['UNCOMPRESSED', 'SNAPPY']);
  for (const codec of Object.keys(compressors) as CompressionCodec[]) codecs.add(codec);
  return codecs;
}
