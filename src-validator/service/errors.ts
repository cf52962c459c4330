import type { ProtocolErrorCode } from '../../src-shared/protocol';

/** What a service refuses, in the protocol's words (docs/PROTOCOL.md); the HTTP status is the transport's business. */
export type RefusalCode = Extract<
  ProtocolErrorCode,
  'bad-request' | 'bad-shape' | 'unknown-task' | 'expired' | 'duplicate' | 'wrong-model' | 'bad-payout-proof' | 'refused-address'
>;

/** A request the validator refuses and the miner can act on: it changed nothing. */
export class Refusal extends Error {
  override readonly name = 'Refusal';
  constructor(
    readonly code: RefusalCode,
    message: string,
  ) {
    super(message);
  }
}
