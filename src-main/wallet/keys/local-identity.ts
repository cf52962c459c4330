import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cryptoWaitReady, randomAsU8a, sr25519PairFromSeed } from '@polkadot/util-crypto';
import { hexToU8a, u8aToHex } from '@polkadot/util';
import type { RequestSigner } from '../../../src-shared/request-signer';
import { writeFileAtomicSync } from '../../../src-node/atomic-write';
import { signerFromPair } from './signer';

/**
 * The key the miner signs with for the embedded local validator. It earns nothing anywhere else
 * (the local validator pays no one), so it is kept in plain form beside the local validator's
 * database instead of asking a new user for a wallet before they have seen anything work. Real
 * validators always use the wallet's mining key.
 */
export async function localIdentity(dir: string): Promise<RequestSigner> {
  await cryptoWaitReady();
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'local-miner-key.json');
  let seed: Uint8Array | null = null;
  if (existsSync(path)) {
    try {
      const parsed = JSON.parse(readFileSync(path, 'utf8')) as { seed?: unknown };
      if (typeof parsed.seed === 'string' && /^0x[0-9a-f]{64}$/.test(parsed.seed)) seed = hexToU8a(parsed.seed);
    } catch {
      seed = null;
    }
  }
  if (!seed) {
    seed = randomAsU8a(32);
    writeFileAtomicSync(path, `${JSON.stringify({ note: 'local-validator identity only; not a wallet', seed: u8aToHex(seed) })}\n`);
  }
  return signerFromPair(sr25519PairFromSeed(seed));
}
