import { hexToU8a, isHex, u8aToHex } from '@polkadot/util';
import { mnemonicToMiniSecret, mnemonicValidate, sr25519PairFromSeed } from '@polkadot/util-crypto';
import { z } from 'zod';
import type { SigningPair } from '../../../src-shared/request-signing';

/**
 * The secret of a mining key in the most useful form it was given in: a mnemonic can be
 * exported as a mnemonic and as a keystore; a seed or a bare pair only as a keystore.
 */
export type KeySecret =
  | { kind: 'mnemonic'; mnemonic: string }
  | { kind: 'seed'; seed: Uint8Array }
  | { kind: 'pair'; publicKey: Uint8Array; secretKey: Uint8Array };

/** Input a user gave that is not a key: says what is wrong, never echoes the secret. */
export class BadKeyInput extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadKeyInput';
  }
}

function normalizeMnemonic(text: string): string {
  return text.trim().split(/\s+/).join(' ').toLowerCase();
}

export function mnemonicSecret(text: string): KeySecret {
  const mnemonic = normalizeMnemonic(text);
  const words = mnemonic.split(' ').length;
  if (![12, 15, 18, 21, 24].includes(words)) {
    throw new BadKeyInput(`A mnemonic has 12, 15, 18, 21 or 24 words; this one has ${words}.`);
  }
  if (!mnemonicValidate(mnemonic)) {
    throw new BadKeyInput('The mnemonic is not a valid BIP-39 English phrase (a word is misspelt or the checksum fails).');
  }
  return { kind: 'mnemonic', mnemonic };
}

export function seedSecret(hex: string): KeySecret {
  const text = hex.trim();
  const prefixed = text.startsWith('0x') ? text : `0x${text}`;
  if (!/^0x[0-9a-fA-F]{64}$/.test(prefixed)) {
    throw new BadKeyInput('A raw seed is 32 bytes written as 64 hex digits (optionally with 0x).');
  }
  return { kind: 'seed', seed: hexToU8a(prefixed) };
}

/** The sr25519 pair of a secret, as polkadot-js derives it (mnemonic → BIP-39 mini secret → pair). */
export function pairOf(secret: KeySecret): SigningPair {
  switch (secret.kind) {
    case 'mnemonic':
      return sr25519PairFromSeed(mnemonicToMiniSecret(secret.mnemonic));
    case 'seed':
      return sr25519PairFromSeed(secret.seed);
    case 'pair':
      return { publicKey: secret.publicKey, secretKey: secret.secretKey };
  }
}

// What is sealed at rest. Hex strings, not bytes: the sealed plaintext is JSON.
const StoredSecret = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('mnemonic'), mnemonic: z.string() }),
  z.object({ kind: z.literal('seed'), seed: z.string().regex(/^0x[0-9a-f]{64}$/) }),
  z.object({
    kind: z.literal('pair'),
    publicKey: z.string().regex(/^0x[0-9a-f]{64}$/),
    secretKey: z.string().regex(/^0x[0-9a-f]{128}$/),
  }),
]);

export function serializeSecret(secret: KeySecret): Uint8Array {
  const stored =
    secret.kind === 'mnemonic'
      ? secret
      : secret.kind === 'seed'
        ? { kind: 'seed', seed: u8aToHex(secret.seed) }
        : { kind: 'pair', publicKey: u8aToHex(secret.publicKey), secretKey: u8aToHex(secret.secretKey) };
  return new TextEncoder().encode(JSON.stringify(stored));
}

export function deserializeSecret(bytes: Uint8Array): KeySecret {
  let parsed: z.infer<typeof StoredSecret>;
  try {
    parsed = StoredSecret.parse(JSON.parse(new TextDecoder().decode(bytes)));
  } catch {
    throw new Error('The wallet opened, but the secret inside is not in a format this build reads.');
  }
  if (parsed.kind === 'mnemonic') return parsed;
  if (parsed.kind === 'seed') return { kind: 'seed', seed: hexToU8a(parsed.seed) };
  return { kind: 'pair', publicKey: hexToU8a(parsed.publicKey), secretKey: hexToU8a(parsed.secretKey) };
}

export function hexBytes(text: string): Uint8Array | null {
  const prefixed = text.startsWith('0x') ? text : `0x${text}`;
  return isHex(prefixed) ? hexToU8a(prefixed) : null;
}
