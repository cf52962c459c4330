import { ParquetWriter } from 'hyparquet-writer';
import { DATASET_PARQUET_SCHEMA } from './dataset-schema';
import type { ExportRecord } from './export-record';
import { ParquetFileSink, type WrittenFile } from './parquet-file-sink';
import { flatLeaf, numberListLeaf, writeRowGroup } from './row-group-writer';

/**
 * A row group is cut when its top-k cells reach this many (about 64 documents of 1024 positions
 * at k = 16): a few MB compressed, small enough for the Hugging Face viewer, and the writer's
 * transient arrays (values plus levels, per column) stay in the tens of MB.
 */
const ROW_GROUP_CELLS = 1 << 20;

/** One data-NNNNN.parquet being written: rows are buffered up to a row group, then encoded. */
export class DatasetShardWriter {
  private pending: ExportRecord[] = [];
  private pendingCells = 0;
  rows = 0;

  private constructor(
    private readonly sink: ParquetFileSink,
    private readonly parquet: ParquetWriter,
    private readonly rowGroupCells: number,
  ) {}

  static async open(path: string, rowGroupCells = ROW_GROUP_CELLS): Promise<DatasetShardWriter> {
    const sink = await ParquetFileSink.create(path);
    const parquet = new ParquetWriter({ writer: sink, schema: DATASET_PARQUET_SCHEMA, createdBy: 'nya-miner' });
    return new DatasetShardWriter(sink, parquet, rowGroupCells);
  }

  /** Buffers a record; resolves after a row group was written when this one filled it. */
  async add(record: ExportRecord): Promise<boolean> {
    this.pending.push(record);
    this.pendingCells += record.topkIds.length;
    this.rows++;
    if (this.pendingCells < this.rowGroupCells) return false;
    await this.flushRowGroup();
    return true;
  }

  async flushRowGroup(): Promise<void> {
    const rows = this.pending;
    if (rows.length === 0) return;
    this.pending = [];
    this.pendingCells = 0;
    const schema = DATASET_PARQUET_SCHEMA;
    await writeRowGroup(
      this.parquet,
      [
        flatLeaf(
          schema,
          'doc_id',
          rows.map((r) => r.docId),
        ),
        flatLeaf(
          schema,
          'url',
          rows.map((r) => r.url),
        ),
        flatLeaf(
          schema,
          'task_id',
          rows.map((r) => r.taskId),
        ),
        flatLeaf(
          schema,
          'model_hash',
          rows.map((r) => r.modelHash),
        ),
        flatLeaf(
          schema,
          'variant',
          rows.map((r) => r.variant),
        ),
        flatLeaf(
          schema,
          'k',
          Int32Array.from(rows, (r) => r.k),
        ),
        numberListLeaf(
          schema,
          'token_ids',
          rows.map((r) => r.tokenIds),
        ),
        numberListLeaf(
          schema,
          'topk_ids',
          rows.map((r) => r.topkIds),
        ),
        numberListLeaf(
          schema,
          'topk_logprobs',
          rows.map((r) => r.topkLogprobs),
        ),
      ],
      rows.length,
    );
  }

  /** Writes the footer and closes the temporary file; `publish()` gives it its real name. */
  async finish(): Promise<WrittenFile> {
    await this.flushRowGroup();
    await this.parquet.finish();
    return this.sink.close();
  }

  publish(): Promise<void> {
    return this.sink.publish();
  }

  abort(): Promise<void> {
    return this.sink.abort();
  }
}
