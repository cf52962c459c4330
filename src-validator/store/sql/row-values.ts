import type { SqlValue } from '../sql-driver';

/** Column values as both drivers return them: numbers may come as strings or bigints, bytes as a Buffer or text. */
export const num = (v: unknown): number => Number(v);
export const str = (v: unknown): string => String(v);
export const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
export const numOrNull = (v: unknown): number | null => (v === null ? null : Number(v));

export function placeholders(values: readonly SqlValue[]): string {
  return values.map(() => '?').join(', ');
}
