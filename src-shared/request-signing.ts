import { u8aToHex } from '@polkadot/util';
import { checkAddress, decodeAddress, encodeAddress, randomAsU8a, sha256AsU8a, sr25519Sign, sr25519Verify } from '@polkadot/util-crypto';
import { HEADER_KEY, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIMESTAMP, SIGNATURE_WINDOW_MS, SS58_PREFIX } from './protocol';

/**
 * Signing and verification of miner requests, shared by the client and the validator so both
 * build the message byte for byte the same way. Platform-neutral (no Node APIs); call
 * `cryptoWaitReady()` from `@polkadot/util-crypto` once before the first sign or verify.
 *
 * Message (UTF-8):
 *   "nya-request-v1\n" METHOD "\n" PATH_WITH_QUERY "\n" TIMESTAMP_MS "\n" NONCE "\n" SHA256HEX(BODY)
 */
const SIGNING_DOMAIN = 'nya-request-v1';

export interface SigningPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

export type SignedHeaders = {
  [HEADER_KEY]: string;
  [HEADER_TIMESTAMP]: string;
  [HEADER_NONCE]: string;
  [HEADER_SIGNATURE]: string;
};

/** A body given by its SHA-256 (lowercase hex), for callers that hash large bodies natively. */
export interface BodyDigest {
  sha256Hex: string;
}

export type SignatureFailureCode = 'unsigned' | 'bad-signature' | 'stale-timestamp';

export type SignatureCheck =
  { ok: true; address: string; nonce: string; timestampMs: number } | { ok: false; code: SignatureFailureCode; message: string };

interface Utf8Encoder {
  TextEncoder: new () => { encode(text: string): Uint8Array };
}
const encoder = new (globalThis as unknown as Utf8Encoder).TextEncoder();

const NONCE_PATTERN = /^[0-9a-f]{32}$/;
const TIMESTAMP_PATTERN = /^\d{1,16}$/;
const SIGNATURE_PATTERN = /^0x[0-9a-f]{128}$/i;

export function sha256Hex(body: Uint8Array): string {
  return u8aToHex(sha256AsU8a(body), -1, false);
}

function digestOf(body: Uint8Array | BodyDigest): string {
  return body instanceof Uint8Array ? sha256Hex(body) : body.sha256Hex;
}

export function signingMessage(
  method: string,
  pathWithQuery: string,
  timestampMs: number | string,
  nonce: string,
  body: Uint8Array | BodyDigest,
): Uint8Array {
  const text = `${SIGNING_DOMAIN}\n${method.toUpperCase()}\n${pathWithQuery}\n${timestampMs}\n${nonce}\n${digestOf(body)}`;
  return encoder.encode(text);
}

/** 32 lowercase hex characters from the platform's CSPRNG. */
export function newNonce(): string {
  return u8aToHex(randomAsU8a(16), -1, false);
}

/** The SS58 (prefix 42) address of a public key. */
export function addressOf(publicKey: Uint8Array): string {
  return encodeAddress(publicKey, SS58_PREFIX);
}

export function signRequest(
  pair: SigningPair,
  method: string,
  pathWithQuery: string,
  body: Uint8Array | BodyDigest,
  nowMs: number,
  nonce: string = newNonce(),
): SignedHeaders {
  const timestampMs = Math.floor(nowMs);
  const message = signingMessage(method, pathWithQuery, timestampMs, nonce, body);
  const signature = sr25519Sign(message, pair);
  return {
    [HEADER_KEY]: addressOf(pair.publicKey),
    [HEADER_TIMESTAMP]: String(timestampMs),
    [HEADER_NONCE]: nonce,
    [HEADER_SIGNATURE]: u8aToHex(signature),
  };
}

type HeaderBag = Record<string, string | string[] | undefined>;

function header(headers: HeaderBag, name: string): string | undefined {
  const value = headers[name] ?? headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Checks the signature headers of a request. Replay protection (remembering nonces for the
 * window) is the caller's: this function is pure apart from the crypto.
 */
export function verifyRequestSignature(
  headers: HeaderBag,
  method: string,
  pathWithQuery: string,
  body: Uint8Array | BodyDigest,
  nowMs: number,
): SignatureCheck {
  const address = header(headers, HEADER_KEY);
  const timestamp = header(headers, HEADER_TIMESTAMP);
  const nonce = header(headers, HEADER_NONCE);
  const signature = header(headers, HEADER_SIGNATURE);
  if (!address || !timestamp || !nonce || !signature) {
    return {
      ok: false,
      code: 'unsigned',
      message: `The request needs the headers ${HEADER_KEY}, ${HEADER_TIMESTAMP}, ${HEADER_NONCE} and ${HEADER_SIGNATURE}.`,
    };
  }
  const [addressValid, addressProblem] = checkAddress(address, SS58_PREFIX);
  if (!addressValid) {
    return {
      ok: false,
      code: 'unsigned',
      message: `${HEADER_KEY} '${address}' is not an SS58 address with prefix ${SS58_PREFIX}: ${addressProblem ?? 'invalid'}.`,
    };
  }
  if (!TIMESTAMP_PATTERN.test(timestamp)) {
    return { ok: false, code: 'unsigned', message: `${HEADER_TIMESTAMP} '${timestamp}' is not milliseconds since the epoch.` };
  }
  if (!NONCE_PATTERN.test(nonce)) {
    return { ok: false, code: 'unsigned', message: `${HEADER_NONCE} must be 32 lowercase hex characters.` };
  }
  if (!SIGNATURE_PATTERN.test(signature)) {
    return { ok: false, code: 'unsigned', message: `${HEADER_SIGNATURE} must be a 0x-prefixed 64-byte hex signature.` };
  }
  const timestampMs = Number(timestamp);
  const skewMs = timestampMs - nowMs;
  if (Math.abs(skewMs) > SIGNATURE_WINDOW_MS) {
    return {
      ok: false,
      code: 'stale-timestamp',
      message: `The request's timestamp is ${Math.round(skewMs / 1000)} s off the validator's clock (${Math.floor(nowMs)}); at most ${SIGNATURE_WINDOW_MS / 1000} s is accepted. Check the system clock.`,
    };
  }
  let verified = false;
  try {
    // sr25519 only: signatureVerify would also try ed25519 and ecdsa, three times the work.
    verified = sr25519Verify(signingMessage(method, pathWithQuery, timestamp, nonce, body), signature, decodeAddress(address));
  } catch {
    verified = false;
  }
  if (!verified) {
    return { ok: false, code: 'bad-signature', message: `The signature does not verify as sr25519 by ${address} over this request.` };
  }
  return { ok: true, address, nonce, timestampMs };
}
