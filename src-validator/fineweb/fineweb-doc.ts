import type { ParquetRow } from 'hyparquet';
import { FineWebShardError } from './shard-error';

/** One FineWeb row, as the validator uses it. Absent optional columns read as null. */
export interface FineWebDoc {
  id: string;
  text: string;
  url: string | null;
  dump: string | null;
  date: string | null;
  language: string | null;
  languageScore: number | null;
  tokenCount: number | null;
}

/** FineWeb's columns (datatrove's ParquetWriter output), in the order the dataset has them. */
export const FINEWEB_COLUMNS = ['text', 'id', 'dump', 'url', 'date', 'file_path', 'language', 'language_score', 'token_count'] as const;
export const REQUIRED_FINEWEB_COLUMNS = ['text', 'id'] as const;

/** Turns one decoded Parquet row into a FineWebDoc; `rowIndex` is the row's index in the file. */
export function toFineWebDoc(row: ParquetRow, path: string, rowIndex: number): FineWebDoc {
  const text = row['text'] as unknown;
  const id = row['id'] as unknown;
  if (typeof id !== 'string' || id.length === 0) {
    throw new FineWebShardError('bad-row', path, `${path}: row ${rowIndex} has no document id.`);
  }
  if (typeof text !== 'string') {
    throw new FineWebShardError('bad-row', path, `${path}: row ${rowIndex} (id ${id}) has no text.`);
  }
  return {
    id,
    text,
    url: optionalString(row['url']),
    dump: optionalString(row['dump']),
    date: optionalString(row['date']),
    language: optionalString(row['language']),
    languageScore: optionalNumber(row['language_score']),
    tokenCount: optionalNumber(row['token_count']),
  };
}

function optionalString(value: unknown): string | null {
  if (typeof value === 'string') return value;
  // A shard re-written with a timestamp column for `date` still reads as FineWeb's ISO string.
  if (value instanceof Date) return value.toISOString().replace('.000Z', 'Z');
  return null;
}

function optionalNumber(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'bigint') return Number(value);
  return null;
}
