/**
 * The one envelope every IPC / WebSocket call returns. Nothing throws across a process boundary:
 * a failure is a value with a machine-readable code and a sentence a user can act on.
 */
export type ErrorCode = 'bad-request' | 'unknown-channel' | 'forbidden' | 'not-found' | 'conflict' | 'unavailable' | 'internal';

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

/**
 * A refusal meant for the user as-is: the code the `Result` answers and a sentence they can act
 * on. Anything else thrown behind a handler is a bug and answers `internal`.
 */
export class CodedError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CodedError';
  }

  /** The plain object a `Result` carries (a class instance does not cross IPC). */
  toResultError(): ResultError {
    return { code: this.code, message: this.message };
  }
}
