import type { IncomingMessage } from 'node:http';
import { checkAddress } from '@polkadot/util-crypto';
import { HEADER_KEY, SIGNATURE_WINDOW_MS, SS58_PREFIX } from '../../src-shared/protocol';
import { verifyRequestSignature } from '../../src-shared/request-signing';
import { checkRequestSignature } from './signature-check';
import type { Store } from '../store/store';
import { ProtocolError } from './protocol-error';
import type { ReceivedBody } from './read-body';

export interface SignedRequest {
  miner: string;
  body: Buffer;
  bodySha256: string;
}

/**
 * Verifies a signed request (signature over method, path with query, timestamp, nonce and body
 * hash) and spends its nonce. Nonces live in the database with an expiry, so replay protection
 * holds across validator processes sharing PostgreSQL. The body is hashed natively: a result
 * upload is megabytes (`readBody` hashes it while it streams in).
 */
export async function authenticate(
  req: IncomingMessage,
  { body, sha256Hex: bodySha256 }: ReceivedBody,
  store: Store,
  nowMs: number,
): Promise<SignedRequest> {
  const check = checkRequestSignature(req.headers, req.method ?? 'GET', req.url ?? '/', { sha256Hex: bodySha256 }, nowMs);
  if (!check.ok) throw new ProtocolError(check.code, check.message);
  const fresh = await store.claimNonce(check.address, check.nonce, check.timestampMs + SIGNATURE_WINDOW_MS, nowMs);
  if (!fresh)
    throw new ProtocolError('replayed', `Nonce ${check.nonce} was already used by ${check.address}; every request needs a new one.`);
  return { miner: check.address, body, bodySha256 };
}

/**
 * The key a request claims to be signed by, checked for form only: the signature covers the body,
 * which has not been read yet. A missing or malformed key is refused here, before the body is.
 */
export function claimedKey(req: IncomingMessage): string {
  const value = req.headers[HEADER_KEY];
  const address = Array.isArray(value) ? value[0] : value;
  if (address && checkAddress(address, SS58_PREFIX)[0]) return address;
  // The shared verifier refuses a missing or malformed key before any cryptography, in its own words.
  const check = verifyRequestSignature(req.headers, req.method ?? 'POST', req.url ?? '/', { sha256Hex: '' }, 0);
  throw new ProtocolError('unsigned', check.ok ? `${HEADER_KEY} is not an SS58 address.` : check.message);
}
