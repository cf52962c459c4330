export { ValidatorSession } from './validator-session';
export type { ValidatorSessionOptions } from './validator-session';
export { validatorFailureOf } from './validator-http';
export { backoffDelayMs } from '../../src-node/backoff';
