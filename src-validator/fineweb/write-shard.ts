import type { KeyValue, SchemaElement } from 'hyparquet';
import { ParquetWriter } from 'hyparquet-writer';
import { ParquetFileSink, type WrittenFile } from '../export/parquet-file-sink';
import { FINEWEB_COLUMNS, type FineWebDoc } from './fineweb-doc';

export interface FineWebRow extends FineWebDoc {
  filePath: string | null;
}

/** FineWeb's schema as datatrove/pyarrow write it: every column nullable, no logical types beyond UTF8. */
const FINEWEB_SCHEMA: SchemaElement[] = [
  { name: 'schema', num_children: FINEWEB_COLUMNS.length },
  ...FINEWEB_COLUMNS.map((name): SchemaElement => {
    if (name === 'language_score') return { name, type: 'DOUBLE', repetition_type: 'OPTIONAL' };
    if (name === 'token_count') return { name, type: 'INT64', repetition_type: 'OPTIONAL' };
    return { name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' };
  }),
];

/**
 * Writes documents as a Parquet file with FineWeb's exact columns, atomically. The build uses it
 * for the bundled sample shard and tests for shards of any shape (row-group size included).
 */
export async function writeFineWebShard(
  path: string,
  rows: readonly FineWebRow[],
  opts: { rowGroupRows?: number; kvMetadata?: KeyValue[] } = {},
): Promise<WrittenFile> {
  const sink = await ParquetFileSink.create(path);
  try {
    const writer = new ParquetWriter({
      writer: sink,
      schema: FINEWEB_SCHEMA,
      createdBy: 'nya-miner',
      ...(opts.kvMetadata ? { kvMetadata: opts.kvMetadata } : {}),
    });
    await writer.write({
      columnData: [
        { name: 'text', data: rows.map((r) => r.text) },
        { name: 'id', data: rows.map((r) => r.id) },
        { name: 'dump', data: rows.map((r) => r.dump) },
        { name: 'url', data: rows.map((r) => r.url) },
        { name: 'date', data: rows.map((r) => r.date) },
        { name: 'file_path', data: rows.map((r) => r.filePath) },
        { name: 'language', data: rows.map((r) => r.language) },
        { name: 'language_score', data: rows.map((r) => r.languageScore) },
        { name: 'token_count', data: rows.map((r) => (r.tokenCount === null ? null : BigInt(r.tokenCount))) },
      ],
      rowGroupSize: opts.rowGroupRows ?? 1000,
    });
    await writer.finish();
    const written = await sink.close();
    await sink.publish();
    return written;
  } catch (err) {
    await sink.abort();
    throw err;
  }
}
