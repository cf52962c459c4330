import { parquetMetadataAsync, parquetReadObjects, parquetSchema, type FileMetaData } from 'hyparquet';
import { parquetDecompressors, supportedCodecs } from './decompressors';
import { openFileAsyncBuffer, type FileAsyncBuffer } from './file-async-buffer';
import { FINEWEB_COLUMNS, REQUIRED_FINEWEB_COLUMNS, toFineWebDoc, type FineWebDoc } from './fineweb-doc';
import { FineWebShardError, errorMessage } from './shard-error';

export type { FineWebDoc } from './fineweb-doc';

export interface ReadFineWebShardOptions {
  /** Largest batch handed out at once (default 1000, FineWeb's own row-group size). */
  batchRows?: number;
  /** Called before each batch is handed out; `rowsDone` counts that batch. */
  onProgress?: (p: { rowsDone: number; rowsTotal: number }) => void;
}

const DEFAULT_BATCH_ROWS = 1000;
const PARQUET_MAGIC = 'PAR1';

/**
 * Streams a FineWeb Parquet shard as batches of documents, in file order. One row group is
 * decoded at a time (datatrove writes FineWeb with 1000-row groups, a few MB each), so memory
 * stays flat however large the shard. Every failure is a FineWebShardError that names the file
 * and what is wrong with it; the file and its header are checked before the first batch.
 */
export async function* readFineWebShard(path: string, opts: ReadFineWebShardOptions = {}): AsyncGenerator<FineWebDoc[], void, undefined> {
  const batchRows = opts.batchRows ?? DEFAULT_BATCH_ROWS;
  if (!Number.isInteger(batchRows) || batchRows < 1) {
    throw new RangeError(`batchRows is ${batchRows}; it must be a positive integer.`);
  }
  const file = await openShard(path);
  try {
    const metadata = await readMetadata(file, path);
    const columns = columnsToRead(metadata, path);
    const compressors = parquetDecompressors();
    checkCodecs(metadata, path, supportedCodecs(compressors));
    const rowsTotal = Number(metadata.num_rows);
    let rowsDone = 0;
    let groupStart = 0;
    for (const [groupIndex, group] of metadata.row_groups.entries()) {
      const groupEnd = groupStart + Number(group.num_rows);
      const rows = await readGroup(path, groupIndex, () =>
        parquetReadObjects({ file, metadata, columns, compressors, rowStart: groupStart, rowEnd: groupEnd }),
      );
      for (let offset = 0; offset < rows.length; offset += batchRows) {
        const slice = rows.slice(offset, offset + batchRows);
        const docs = slice.map((row, i) => toFineWebDoc(row, path, groupStart + offset + i));
        rowsDone += docs.length;
        opts.onProgress?.({ rowsDone, rowsTotal });
        yield docs;
      }
      groupStart = groupEnd;
    }
  } finally {
    await file.close();
  }
}

async function openShard(path: string): Promise<FileAsyncBuffer> {
  try {
    return await openFileAsyncBuffer(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'there is no such file'
        : code === 'EISDIR'
          ? 'it is a directory'
          : code === 'EACCES' || code === 'EPERM'
            ? 'permission denied'
            : errorMessage(err);
    throw new FineWebShardError('unreadable', path, `Cannot read FineWeb shard ${path}: ${why}.`);
  }
}

async function readMetadata(file: FileAsyncBuffer, path: string): Promise<FileMetaData> {
  const notParquet = (why: string) => new FineWebShardError('not-parquet', path, `${path} is not a Parquet file: ${why}.`);
  if (file.byteLength < 12) throw notParquet(`it is only ${file.byteLength} bytes long`);
  const head = Buffer.from(await file.slice(0, 4)).toString('latin1');
  const tail = Buffer.from(await file.slice(file.byteLength - 4)).toString('latin1');
  if (head !== PARQUET_MAGIC || tail !== PARQUET_MAGIC) {
    throw notParquet('it does not start and end with the PAR1 marker (truncated, or another format)');
  }
  try {
    return await parquetMetadataAsync(file);
  } catch (err) {
    throw notParquet(`its footer cannot be decoded (${errorMessage(err)})`);
  }
}

function columnsToRead(metadata: FileMetaData, path: string): string[] {
  const present = parquetSchema(metadata).children.map((child) => child.element.name);
  const missing = REQUIRED_FINEWEB_COLUMNS.filter((name) => !present.includes(name));
  if (missing.length > 0) {
    throw new FineWebShardError(
      'missing-column',
      path,
      `${path} is not a FineWeb shard: it has no ${missing.map((m) => `\`${m}\``).join(' or ')} ` +
        `column (its columns: ${present.join(', ') || 'none'}).`,
    );
  }
  // file_path is provenance the validator does not keep; skipping it saves decoding a column.
  return FINEWEB_COLUMNS.filter((name) => name !== 'file_path' && present.includes(name));
}

function checkCodecs(metadata: FileMetaData, path: string, supported: Set<string>): void {
  for (const group of metadata.row_groups) {
    for (const chunk of group.columns) {
      const codec = chunk.meta_data?.codec;
      if (codec && !supported.has(codec)) {
        throw new FineWebShardError(
          'unsupported-compression',
          path,
          `${path} uses ${codec} compression, which this reader cannot decode; re-write it with another codec ` +
            `(supported: ${[...supported].join(', ')}).`,
        );
      }
    }
  }
}

async function readGroup<T>(path: string, groupIndex: number, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    throw new FineWebShardError(
      'corrupt',
      path,
      `${path}: row group ${groupIndex} cannot be decoded (${errorMessage(err)}); the file is damaged.`,
    );
  }
}
