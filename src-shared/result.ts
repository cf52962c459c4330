/**
 * The one envelope every IPC / WebSocket call returns. Nothing throws across a process boundary:
 * a failure is a value with a machine-readable code and a sentence a user can act on.
 */
export type ErrorCode =
  | 'bad-request'
  | 'unknown-channel'
  | 'forbidden'
  | 'not-found'
  | 'conflict'
  | 'unavailable'
  | 'internal';

export interface ResultError {
  code: ErrorCode;
  message: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: ResultError };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function err(code: ErrorCode, message: string): { ok: false; error: ResultError } {
  return { ok: false, error: { code, message } };
}
