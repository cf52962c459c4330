import { inspect } from 'node:util';
import { sr25519Sign } from '@polkadot/util-crypto';
import type { RequestSigner } from '../../../src-shared/request-signer';
import { addressOf, type SigningPair } from '../../../src-shared/request-signing';

/**
 * A signer over an sr25519 pair. Call `cryptoWaitReady()` first. The pair is copied, so zeroing
 * the caller's buffers does not break the signer, and nothing reachable from the returned object
 * (fields, JSON, util.inspect) holds the secret key: it stays inside this closure.
 */
export function signerFromPair(pair: SigningPair): RequestSigner {
  const held: SigningPair = { publicKey: pair.publicKey.slice(), secretKey: pair.secretKey.slice() };
  const address = addressOf(held.publicKey);
  const describe = { kind: 'sr25519 signer', address };
  return Object.freeze({
    address,
    sign: (message: Uint8Array) => sr25519Sign(message, held),
    toJSON: () => describe,
    [inspect.custom]: () => `RequestSigner { address: '${address}' }`,
  });
}
