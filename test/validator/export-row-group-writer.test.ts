import { describe, expect, it } from 'vitest';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import { DATASET_PARQUET_SCHEMA } from '../../src-validator/export/dataset-schema';
import { flatLeaf, numberListLeaf, writeRowGroup } from '../../src-validator/export/row-group-writer';

const rows = [
  { docId: 'a', url: 'https://a.example', k: 2, tokenIds: [1, 5], topkIds: [3, 4, 9, 8], topkLogprobs: [-0.5, -1.25, -0.125, -3] },
  { docId: 'b', url: null, k: 1, tokenIds: [], topkIds: [], topkLogprobs: [] },
  { docId: 'c', url: 'https://c.example', k: 1, tokenIds: [1], topkIds: [32767], topkLogprobs: [-63.9921875] },
];

async function viaParquetWriter(): Promise<Uint8Array> {
  const writer = new ByteWriter();
  const parquet = new ParquetWriter({ writer, schema: DATASET_PARQUET_SCHEMA });
  await parquet.write({
    columnData: [
      { name: 'doc_id', data: rows.map((r) => r.docId) },
      { name: 'url', data: rows.map((r) => r.url) },
      { name: 'task_id', data: rows.map(() => 't') },
      { name: 'model_hash', data: rows.map(() => 'm') },
      { name: 'k', data: Int32Array.from(rows, (r) => r.k) },
      { name: 'token_ids', data: rows.map((r) => r.tokenIds) },
      { name: 'topk_ids', data: rows.map((r) => r.topkIds) },
      { name: 'topk_logprobs', data: rows.map((r) => r.topkLogprobs) },
    ],
    rowGroupSize: rows.length,
  });
  await parquet.finish();
  return writer.getBytes().slice();
}

async function viaRowGroupWriter(): Promise<Uint8Array> {
  const writer = new ByteWriter();
  const parquet = new ParquetWriter({ writer, schema: DATASET_PARQUET_SCHEMA });
  const s = DATASET_PARQUET_SCHEMA;
  await writeRowGroup(
    parquet,
    [
      flatLeaf(
        s,
        'doc_id',
        rows.map((r) => r.docId),
      ),
      flatLeaf(
        s,
        'url',
        rows.map((r) => r.url),
      ),
      flatLeaf(
        s,
        'task_id',
        rows.map(() => 't'),
      ),
      flatLeaf(
        s,
        'model_hash',
        rows.map(() => 'm'),
      ),
      flatLeaf(
        s,
        'k',
        Int32Array.from(rows, (r) => r.k),
      ),
      numberListLeaf(
        s,
        'token_ids',
        rows.map((r) => Int32Array.from(r.tokenIds)),
      ),
      numberListLeaf(
        s,
        'topk_ids',
        rows.map((r) => Int32Array.from(r.topkIds)),
      ),
      numberListLeaf(
        s,
        'topk_logprobs',
        rows.map((r) => Float32Array.from(r.topkLogprobs)),
      ),
    ],
    rows.length,
  );
  await parquet.finish();
  return writer.getBytes().slice();
}

describe('writeRowGroup', () => {
  it('writes the same bytes as hyparquet-writer’s own Dremel path, empty lists and nulls included', async () => {
    const expected = await viaParquetWriter();
    const actual = await viaRowGroupWriter();
    expect(actual.length).toBe(expected.length);
    expect(Buffer.from(actual).equals(Buffer.from(expected))).toBe(true);
  });
});
