import type { ProtocolErrorCode } from '../../src-shared/protocol';

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
  'not-found': 404,
  'method-not-allowed': 405,
  'rate-limited': 429,
  internal: 500,
  unavailable: 503,
};

/** An answer the client can act on: becomes `{ error: { code, message } }` with the code's status. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly status: number;
  constructor(
    readonly code: ProtocolErrorCode,
    message: string,
  ) {
    super(message);
    this.status = STATUS[code];
  }
}
