export { ValidatorSession } from './validator-session';
export type { ConnectionState, ValidatorSessionOptions, ValidatorSessionState } from './validator-session';
export { ValidatorError, parseRetryAfterMs, validatorFailureOf } from './validator-http';
export type { ValidatorFailure } from './validator-http';
export { backoffDelayMs, DEFAULT_BACKOFF } from '../../src-node/backoff';
export type { BackoffPolicy } from '../../src-node/backoff';
export { Outbox, CorruptOutboxEntry } from './outbox';
export type { OutboxEntry } from './outbox';
