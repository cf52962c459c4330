import { beforeAll, describe, expect, it } from 'vitest';
import { cryptoWaitReady, sr25519PairFromSeed } from '@polkadot/util-crypto';
import { HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIMESTAMP, SIGNATURE_WINDOW_MS } from '../../src-shared/protocol';
import { addressOf, sha256Hex, signRequest, verifyRequestSignature } from '../../src-shared/request-signing';

const body = new TextEncoder().encode('{"client":"test"}');
const now = 1_760_000_000_000;
let pair: { publicKey: Uint8Array; secretKey: Uint8Array };
let other: { publicKey: Uint8Array; secretKey: Uint8Array };

beforeAll(async () => {
  await cryptoWaitReady();
  pair = sr25519PairFromSeed(new Uint8Array(32).fill(7));
  other = sr25519PairFromSeed(new Uint8Array(32).fill(8));
});

describe('request signing', () => {
  it('verifies its own signature and names the signer', () => {
    const headers = signRequest(pair, 'POST', '/v1/lease', body, now);
    const check = verifyRequestSignature(headers, 'POST', '/v1/lease', body, now + 1000);
    expect(check).toMatchObject({ ok: true, address: addressOf(pair.publicKey), timestampMs: now });
    expect(addressOf(pair.publicKey).startsWith('5')).toBe(true);
  });

  it('accepts a precomputed body digest in place of the body', () => {
    const headers = signRequest(pair, 'POST', '/v1/lease', { sha256Hex: sha256Hex(body) }, now);
    expect(verifyRequestSignature(headers, 'POST', '/v1/lease', body, now).ok).toBe(true);
  });

  it.each([
    ['another path', 'POST', '/v1/me', body],
    ['another method', 'GET', '/v1/lease', body],
    ['another body', 'POST', '/v1/lease', new TextEncoder().encode('{"client":"tes"}')],
  ])('rejects %s', (_label, method, path, otherBody) => {
    const headers = signRequest(pair, 'POST', '/v1/lease', body, now);
    expect(verifyRequestSignature(headers, method, path, otherBody, now)).toMatchObject({ ok: false, code: 'bad-signature' });
  });

  it('rejects a signature by another key', () => {
    const headers = signRequest(pair, 'POST', '/v1/lease', body, now);
    const forged = {
      ...headers,
      [HEADER_SIGNATURE]: signRequest(other, 'POST', '/v1/lease', body, now, headers[HEADER_NONCE])[HEADER_SIGNATURE],
    };
    expect(verifyRequestSignature(forged, 'POST', '/v1/lease', body, now)).toMatchObject({ ok: false, code: 'bad-signature' });
  });

  it('rejects timestamps outside the window, both ways', () => {
    const headers = signRequest(pair, 'POST', '/v1/lease', body, now);
    expect(verifyRequestSignature(headers, 'POST', '/v1/lease', body, now + SIGNATURE_WINDOW_MS + 1)).toMatchObject({
      ok: false,
      code: 'stale-timestamp',
    });
    expect(verifyRequestSignature(headers, 'POST', '/v1/lease', body, now - SIGNATURE_WINDOW_MS - 1)).toMatchObject({
      ok: false,
      code: 'stale-timestamp',
    });
    expect(verifyRequestSignature(headers, 'POST', '/v1/lease', body, now + SIGNATURE_WINDOW_MS).ok).toBe(true);
  });

  it('rejects missing or malformed headers as unsigned', () => {
    const headers = signRequest(pair, 'POST', '/v1/lease', body, now);
    expect(verifyRequestSignature({}, 'POST', '/v1/lease', body, now)).toMatchObject({ ok: false, code: 'unsigned' });
    expect(verifyRequestSignature({ ...headers, [HEADER_NONCE]: 'XYZ' }, 'POST', '/v1/lease', body, now)).toMatchObject({
      ok: false,
      code: 'unsigned',
    });
    expect(verifyRequestSignature({ ...headers, [HEADER_TIMESTAMP]: '12e5' }, 'POST', '/v1/lease', body, now)).toMatchObject({
      ok: false,
      code: 'unsigned',
    });
    expect(verifyRequestSignature({ ...headers, 'x-nya-key': 'not-an-address' }, 'POST', '/v1/lease', body, now)).toMatchObject({
      ok: false,
      code: 'unsigned',
    });
  });
});
