import { beforeAll, describe, expect, it } from 'vitest';
import { cryptoWaitReady, sr25519PairFromSeed } from '@polkadot/util-crypto';
import { HEADER_KEY, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIMESTAMP, SIGNATURE_WINDOW_MS } from '../../src-shared/protocol';
import { addressOf, sha256Hex, signRequest, verifyRequestSignature } from '../../src-shared/request-signing';
import { checkRequestSignature } from '../../src-validator/http/signature-check';

const now = 1_760_000_000_000;
const body = { sha256Hex: sha256Hex(new TextEncoder().encode('{"client":"x"}')) };

beforeAll(async () => {
  await cryptoWaitReady();
});

describe('the validator signature check', () => {
  it('gives exactly the verdict of the shared verifier', () => {
    const pair = sr25519PairFromSeed(new Uint8Array(32).fill(5));
    const other = sr25519PairFromSeed(new Uint8Array(32).fill(6));
    const good = signRequest(pair, 'POST', '/v1/lease', body, now);
    const cases: [string, Record<string, string>, number, string][] = [
      ['valid', good, now, '/v1/lease'],
      ['valid at the window edge', good, now + SIGNATURE_WINDOW_MS, '/v1/lease'],
      ['stale', good, now + SIGNATURE_WINDOW_MS + 1, '/v1/lease'],
      ['another path', good, now, '/v1/me'],
      ['another key', { ...good, [HEADER_KEY]: addressOf(other.publicKey) }, now, '/v1/lease'],
      ['bad nonce', { ...good, [HEADER_NONCE]: 'A'.repeat(32) }, now, '/v1/lease'],
      ['bad timestamp', { ...good, [HEADER_TIMESTAMP]: '1e12' }, now, '/v1/lease'],
      ['short signature', { ...good, [HEADER_SIGNATURE]: good[HEADER_SIGNATURE].slice(0, 20) }, now, '/v1/lease'],
      ['garbage address', { ...good, [HEADER_KEY]: 'nope' }, now, '/v1/lease'],
      ['missing header', { [HEADER_KEY]: good[HEADER_KEY] }, now, '/v1/lease'],
    ];
    for (const [name, headers, at, path] of cases) {
      expect(checkRequestSignature(headers, 'POST', path, body, at), name).toEqual(verifyRequestSignature(headers, 'POST', path, body, at));
    }
    expect(checkRequestSignature(good, 'POST', '/v1/lease', body, now).ok).toBe(true);
  });
});
