import type { ColumnChunk, DecodedArray, SchemaElement } from 'hyparquet';
import type { ParquetWriter } from 'hyparquet-writer';
import { writeColumn } from 'hyparquet-writer/src/column.js';

type PageData = Parameters<typeof writeColumn>[0]['pageData'];

/** One leaf column of a row group, its Dremel levels already computed. */
export interface LeafColumnData {
  /** Root first, leaf last: [schema, topk_ids, list, element]. */
  schemaPath: SchemaElement[];
  pageData: PageData;
}

/** A top-level REQUIRED or OPTIONAL column: no repetition, a definition level per null only. */
export function flatLeaf(schema: SchemaElement[], name: string, values: DecodedArray): LeafColumnData {
  const element = schema.find((e) => e.name === name)!;
  const optional = element.repetition_type === 'OPTIONAL';
  const definitionLevels = optional ? Array.from(values as ArrayLike<unknown>, (v) => (v == null ? 0 : 1)) : [];
  return {
    schemaPath: [schema[0]!, element],
    pageData: { values, definitionLevels, repetitionLevels: [], maxDefinitionLevel: optional ? 1 : 0 },
  };
}

/**
 * A REQUIRED three-level LIST of REQUIRED numbers, levels filled directly: repetition 0 opens a
 * row, 1 continues it; an empty list is one slot at definition level 0. Exactly what
 * hyparquet-writer's generic Dremel encoder emits for this shape, without its per-value
 * recursion, which took half of the export's time.
 */
export function numberListLeaf(schema: SchemaElement[], name: string, rows: ArrayLike<number>[]): LeafColumnData {
  const at = schema.findIndex((e) => e.name === name);
  let slots = 0;
  for (const row of rows) slots += Math.max(1, row.length);
  const values: Array<number | undefined> = new Array(slots);
  const definitionLevels: number[] = new Array(slots);
  const repetitionLevels: number[] = new Array(slots);
  let i = 0;
  for (const row of rows) {
    if (row.length === 0) {
      values[i] = undefined;
      definitionLevels[i] = 0;
      repetitionLevels[i++] = 0;
      continue;
    }
    for (let j = 0; j < row.length; j++) {
      values[i] = row[j];
      definitionLevels[i] = 1;
      repetitionLevels[i++] = j === 0 ? 0 : 1;
    }
  }
  return {
    schemaPath: [schema[0]!, schema[at]!, schema[at + 1]!, schema[at + 2]!],
    pageData: { values: values as number[], definitionLevels, repetitionLevels, maxDefinitionLevel: 1 },
  };
}

/**
 * Appends one row group to `parquet`, as ParquetWriter.write would, from columns whose levels
 * the caller computed. Relies on ParquetWriter's public fields (row_groups, num_rows,
 * pendingIndexes); the round-trip tests pin the hyparquet-writer version this matches.
 */
export async function writeRowGroup(parquet: ParquetWriter, leaves: LeafColumnData[], numRows: number): Promise<void> {
  const writer = parquet.writer;
  const groupStart = writer.offset;
  const columns: ColumnChunk[] = [];
  for (const { schemaPath, pageData } of leaves) {
    const result = writeColumn({
      writer,
      column: {
        columnName: schemaPath
          .slice(1)
          .map((e) => e.name)
          .join('.'),
        element: schemaPath[schemaPath.length - 1]!,
        schemaPath,
        codec: parquet.codec,
        compressors: parquet.compressors,
        stats: parquet.statistics,
        statisticsTruncateLength: parquet.statisticsTruncateLength,
        pageSize: 1 << 20,
        columnIndex: false,
        offsetIndex: true,
      },
      pageData,
    });
    columns.push(result.chunk);
    parquet.pendingIndexes.push(result);
  }
  let totalByteSize = 0n;
  for (const { meta_data } of columns) totalByteSize += meta_data?.total_uncompressed_size ?? 0n;
  parquet.num_rows += BigInt(numRows);
  parquet.row_groups.push({
    columns,
    total_byte_size: totalByteSize,
    num_rows: BigInt(numRows),
    total_compressed_size: BigInt(writer.offset - groupStart),
  });
  await writer.flush?.();
}
