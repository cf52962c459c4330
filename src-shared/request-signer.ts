/**
 * What signs miner requests: an address and a way to sign. The wallet makes one from the mining
 * key and the validator client signs with it, so the contract lives here rather than in either.
 */
export interface RequestSigner {
  readonly address: string;
  sign(message: Uint8Array): Uint8Array;
}
