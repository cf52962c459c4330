import type { ErrorBody, ProtocolErrorCode } from '../../src-shared/protocol';
import { Refusal } from '../service/errors';

/** The one place a protocol error code becomes an HTTP status. */
const STATUS: Record<ProtocolErrorCode, number> = {
  'bad-request': 400,
  'bad-shape': 400,
  'unsupported-media-type': 415,
  'body-too-large': 413,
  unsigned: 401,
  'bad-signature': 401,
  'stale-timestamp': 401,
  replayed: 401,
  'unknown-task': 404,
  expired: 410,
  duplicate: 409,
  'wrong-model': 409,
  'bad-payout-proof': 400,
  'refused-address': 403,
  'not-registered': 403,
  'not-found': 404,
  'method-not-allowed': 405,
  'too-slow': 408,
  'range-not-satisfiable': 416,
  'rate-limited': 429,
  internal: 500,
  unavailable: 503,
};

/** A refusal of the HTTP layer's own (routing, media type, size, signature), before any service runs. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  constructor(
    readonly code: ProtocolErrorCode,
    message: string,
    /** When the client may try again (sent as Retry-After, whole seconds). */
    readonly retryAfterMs: number | null = null,
    /** Other headers the answer carries (a 416's Content-Range). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** The answer to a refusal, from this layer or a service: `{ error: { code, message } }` with its code's status; null for anything else. */
export function refusalAnswer(error: unknown): { status: number; body: ErrorBody; headers: Record<string, string> } | null {
  if (!(error instanceof ProtocolError || error instanceof Refusal)) return null;
  const retryAfterMs = error instanceof ProtocolError ? error.retryAfterMs : null;
  const headers: Record<string, string> = {
    ...(error instanceof ProtocolError ? error.headers : {}),
    ...(retryAfterMs === null ? {} : { 'retry-after': String(Math.ceil(retryAfterMs / 1000)) }),
  };
  return { status: STATUS[error.code], body: { error: { code: error.code, message: error.message } }, headers };
}
