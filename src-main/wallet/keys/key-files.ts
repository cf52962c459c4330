import { Keyring } from '@polkadot/keyring';
import { decodePair } from '@polkadot/keyring/pair/decode';
import { hexToU8a, isHex, stringToU8a, u8aEq, u8aToString } from '@polkadot/util';
import { base64Decode, blake2AsU8a, decodeAddress, naclDecrypt } from '@polkadot/util-crypto';
import { z } from 'zod';
import { SS58_PREFIX } from '../../../src-shared/protocol';
import { BadKeyInput, hexBytes, mnemonicSecret, pairOf, seedSecret, type KeySecret } from './key-secret';

/** The password of an imported key file is wrong (or missing where the file is encrypted). */
export class WrongKeyFilePassword extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WrongKeyFilePassword';
  }
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new BadKeyInput(`The ${what} is not JSON.`);
  }
}

// ---------------------------------------------------------------------------------------------
// polkadot-js keystore (what polkadot.js apps, Talisman and SubWallet export)

const PolkadotJson = z.object({
  address: z.string(),
  encoded: z.string(),
  encoding: z.object({
    content: z.array(z.string()),
    type: z.union([z.string(), z.array(z.string())]),
    version: z.string(),
  }),
  meta: z.record(z.string(), z.unknown()).optional(),
});

export function parsePolkadotJson(text: string, password: string): KeySecret {
  const parsed = PolkadotJson.safeParse(parseJson(text, 'polkadot-js keystore'));
  if (!parsed.success) throw new BadKeyInput('The file is not a polkadot-js keystore (needs address, encoded and encoding).');
  const { address, encoded, encoding } = parsed.data;
  if (encoding.content[0] !== 'pkcs8' || encoding.content[1] !== 'sr25519') {
    throw new BadKeyInput(`The keystore holds a ${encoding.content[1] ?? 'unknown'} key; a mining key must be sr25519.`);
  }
  const encTypes = (Array.isArray(encoding.type) ? encoding.type : [encoding.type]) as Parameters<typeof decodePair>[2];
  let decoded: { publicKey: Uint8Array; secretKey: Uint8Array };
  try {
    decoded = decodePair(password, isHex(encoded) ? hexToU8a(encoded) : base64Decode(encoded), encTypes);
  } catch (error) {
    const message = error instanceof Error ? error.message : '';
    if (/passphrase|password/i.test(message)) throw new WrongKeyFilePassword('The keystore password is wrong.');
    throw new BadKeyInput(`The keystore does not decode: ${message}`);
  }
  // Generations 1-2 of the format hold the 32-byte seed, generation 3 the 64-byte secret key.
  const secret: KeySecret =
    decoded.secretKey.length === 32
      ? { kind: 'seed', seed: decoded.secretKey.slice() }
      : { kind: 'pair', publicKey: decoded.publicKey.slice(), secretKey: decoded.secretKey.slice() };
  assertAddress(secret, address, 'keystore');
  return secret;
}

export function toPolkadotJson(secret: KeySecret, password: string, name: string): string {
  if (password.length === 0) throw new BadKeyInput('An exported keystore needs a password.');
  const keyring = new Keyring({ type: 'sr25519', ss58Format: SS58_PREFIX });
  const pair = keyring.createFromPair(pairOf(secret), { name });
  return JSON.stringify(pair.toJson(password), null, 2);
}

// ---------------------------------------------------------------------------------------------
// `comx` CLI key files (~/.commune/key/<name>.json), as ../shared/SEED.md describes them:
// {"data": "<JSON string>", "encrypted": bool, "timestamp": n}; encrypted `data` is
// base64(nonce24 ‖ NaCl secretbox) with key blake2b-256(password).

const ComxEnvelope = z.object({ data: z.string(), encrypted: z.boolean().optional(), timestamp: z.number().optional() });

const ComxKey = z.object({
  crypto_type: z.number().int().optional(),
  seed_hex: z.string().nullable().optional(),
  mnemonic: z.string().nullable().optional(),
  ss58_address: z.string().optional(),
  public_key: z.string().optional(),
  private_key: z.string().optional(),
});

/** substrate-interface's KeypairType: ED25519 = 0, SR25519 = 1, ECDSA = 2. */
const COMX_SR25519 = 1;
const NONCE_BYTES = 24;

function decryptComxData(data: string, password: string | undefined): string {
  if (password === undefined) throw new WrongKeyFilePassword('The comx key file is encrypted; give its password.');
  const bytes = base64Decode(data.trim());
  if (bytes.length <= NONCE_BYTES) throw new BadKeyInput('The encrypted comx key data is too short to hold a nonce and a box.');
  const key = blake2AsU8a(stringToU8a(password), 256);
  const plain = naclDecrypt(bytes.subarray(NONCE_BYTES), bytes.subarray(0, NONCE_BYTES), key);
  key.fill(0);
  if (!plain) throw new WrongKeyFilePassword('The comx key file password is wrong.');
  return u8aToString(plain);
}

export function parseComxKeyFile(text: string, password?: string): KeySecret {
  const envelope = ComxEnvelope.safeParse(parseJson(text, 'comx key file'));
  if (!envelope.success) throw new BadKeyInput('The file is not a comx key file (needs a "data" string).');
  const inner = envelope.data.encrypted ? decryptComxData(envelope.data.data, password) : envelope.data.data;
  let value = parseJson(inner, 'comx key data');
  // Some writers JSON-encode the already-encoded string once more; unwrap one level.
  if (typeof value === 'string') value = parseJson(value, 'comx key data');
  const key = ComxKey.safeParse(value);
  if (!key.success) throw new BadKeyInput('The comx key data is not the expected object.');
  const { crypto_type, seed_hex, mnemonic, ss58_address } = key.data;
  if (crypto_type !== undefined && crypto_type !== COMX_SR25519) {
    throw new BadKeyInput(`The comx key has crypto_type ${crypto_type}; a mining key must be sr25519 (1).`);
  }
  // SEED.md: private_key is schnorrkel's canonical form, not what polkadot-js signs with, so the
  // pair comes from seed_hex or the mnemonic, never from private_key.
  let secret: KeySecret;
  if (seed_hex) secret = seedSecret(seed_hex);
  else if (mnemonic) secret = mnemonicSecret(mnemonic);
  else throw new BadKeyInput('The comx key file has neither seed_hex nor mnemonic; its key cannot be rebuilt.');
  if (seed_hex && mnemonic) {
    // Keep the mnemonic (it can be exported as one) when it is the same key.
    const fromMnemonic = mnemonicSecret(mnemonic);
    if (u8aEq(pairOf(fromMnemonic).publicKey, pairOf(secret).publicKey)) secret = fromMnemonic;
  }
  if (ss58_address) assertAddress(secret, ss58_address, 'comx key file');
  else if (key.data.public_key) {
    const publicKey = hexBytes(key.data.public_key);
    if (!publicKey || !u8aEq(publicKey, pairOf(secret).publicKey)) {
      throw new BadKeyInput('The comx key file public_key does not belong to its seed.');
    }
  }
  return secret;
}

/** Refuse a file whose stated address is not the key it holds: a damaged or mixed-up file. */
function assertAddress(secret: KeySecret, address: string, what: string): void {
  let stated: Uint8Array;
  try {
    stated = decodeAddress(address);
  } catch {
    throw new BadKeyInput(`The ${what} names an address '${address}' that is not SS58.`);
  }
  if (!u8aEq(stated, pairOf(secret).publicKey)) {
    throw new BadKeyInput(`The ${what} says it holds ${address}, but its secret belongs to another key.`);
  }
}
