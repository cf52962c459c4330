import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { Keyring } from '@polkadot/keyring';
import { stringToU8a, u8aToHex } from '@polkadot/util';
import { blake2AsU8a, cryptoWaitReady, mnemonicToMiniSecret, naclEncrypt, randomAsU8a, sr25519PairFromSeed } from '@polkadot/util-crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { signRequest, sha256Hex, signingMessage, verifyRequestSignature } from '../../src-shared/request-signing';
import {
  BadKeyInput,
  KeyStore,
  loadMiningSigner,
  MiningKeyExists,
  NoMiningKey,
  passphraseBox,
  WrongKeyFilePassword,
  WrongPassphrase,
} from '../../src-main/wallet';
import { u8aToU8a } from '@polkadot/util';

// The Substrate development phrase; its root (no derivation path) sr25519 account is well known.
const DEV_PHRASE = 'bottom drive obey lake curtain smoke basket hold race lonely fit walk';
const DEV_ROOT_ADDRESS = '5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV';

// scrypt at 2^10 keeps the many store round trips fast; secret-box.test.ts covers the real cost.
const cheapBox = (passphrase = 'correct horse') => passphraseBox(passphrase, { log2N: 10, r: 8, p: 1 });

let keyring: Keyring;
/** One keystore written by polkadot-js itself (its scrypt is slow; make it once). */
let foreignKeystore: { json: string; password: string; address: string };
const dirs: string[] = [];
function store(box = cheapBox()): KeyStore {
  const dir = mkdtempSync(join(tmpdir(), 'nya-wallet-'));
  dirs.push(dir);
  return new KeyStore({ dataDir: dir, box, now: () => 1_760_000_000_000 });
}

beforeAll(async () => {
  await cryptoWaitReady();
  keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  const pair = keyring.addFromUri('//Nya//keystore');
  foreignKeystore = { json: JSON.stringify(pair.toJson('pjs pw')), password: 'pjs pw', address: pair.address };
});
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** The same keystore labelled as ed25519, as polkadot-js labels such keys. */
function asEd25519Keystore(json: string): string {
  const parsed = JSON.parse(json) as { encoding: { content: string[] } };
  parsed.encoding.content = ['pkcs8', 'ed25519'];
  return JSON.stringify(parsed);
}

function expectNoSecretIn(value: unknown, secrets: string[]): void {
  const printed = [JSON.stringify(value), inspect(value, { depth: 10, showHidden: true, getters: true })];
  for (const text of printed) {
    for (const secret of secrets) expect(text.toLowerCase()).not.toContain(secret.toLowerCase());
  }
}

describe('KeyStore import and export', () => {
  it('derives the well-known root address of the dev phrase, as polkadot-js does', async () => {
    const s = store();
    const info = await s.importMnemonic(`  ${DEV_PHRASE.toUpperCase()}\n`);
    expect(info.address).toBe(keyring.addFromUri(DEV_PHRASE).address);
    expect(info.address).toBe(DEV_ROOT_ADDRESS);
    expect(info).toMatchObject({ source: 'mnemonic', hasMnemonic: true });
    expect((await s.signer()).address).toBe(DEV_ROOT_ADDRESS);
    expect(await s.exportMnemonic()).toBe(DEV_PHRASE);
  });

  it('creates a fresh 12-word key whose mnemonic re-imports to the same address', async () => {
    const s = store();
    const { address, mnemonic } = await s.create();
    expect(mnemonic.split(' ')).toHaveLength(12);
    expect(keyring.addFromUri(mnemonic).address).toBe(address);
    expect(s.info()).toMatchObject({ address, source: 'created' });
    // The file on disk holds neither the mnemonic nor any of its words in clear.
    // Field names are checked apart: "source" is a BIP-39 word as well as a key of the file.
    const file = readFileSync(s.path, 'utf8');
    const values = Object.values(JSON.parse(file) as Record<string, unknown>).join(' ');
    for (const word of mnemonic.split(' ')) expect(values).not.toMatch(new RegExp(`\\b${word}\\b`));
    expect(file).not.toContain(mnemonic);
  });

  it('imports a raw seed with or without 0x', async () => {
    const seed = randomAsU8a(32);
    const expected = keyring.addFromSeed(seed).address;
    const a = store();
    expect((await a.importSeed(u8aToHex(seed))).address).toBe(expected);
    const b = store();
    expect((await b.importSeed(u8aToHex(seed).slice(2))).address).toBe(expected);
    await expect(b.exportMnemonic()).rejects.toThrow(/without a mnemonic/);
  });

  it('round-trips through a polkadot-js keystore in both directions', async () => {
    const s = store();
    await s.importMnemonic(DEV_PHRASE);
    const json = await s.exportPolkadotJson('export pw');
    // Independent check: polkadot-js itself opens our export and signs as the same key.
    const pair = keyring.addFromJson(JSON.parse(json));
    pair.decodePkcs8('export pw');
    expect(pair.address).toBe(DEV_ROOT_ADDRESS);
    expect(pair.isLocked).toBe(false);

    const t = store();
    const info = await t.importPolkadotJson(json, 'export pw');
    expect(info).toMatchObject({ address: DEV_ROOT_ADDRESS, source: 'polkadot-json', hasMnemonic: false });
    // A keystore written by polkadot-js (not by us) imports too.
    const u = store();
    expect((await u.importPolkadotJson(foreignKeystore.json, foreignKeystore.password)).address).toBe(foreignKeystore.address);
  });

  it('refuses a polkadot-js keystore with a wrong password, and stores nothing', async () => {
    const s = store();
    await expect(s.importPolkadotJson(foreignKeystore.json, 'wrong')).rejects.toBeInstanceOf(WrongKeyFilePassword);
    expect(s.info()).toBeNull();
  });

  it('refuses to overwrite an existing key and says how to proceed', async () => {
    const s = store();
    await s.importMnemonic(DEV_PHRASE);
    await expect(s.create()).rejects.toBeInstanceOf(MiningKeyExists);
    await expect(s.importSeed(u8aToHex(randomAsU8a(32)))).rejects.toThrow(/remove it first/);
    expect(s.info()?.address).toBe(DEV_ROOT_ADDRESS);
  });

  it.each([
    ['a short mnemonic', (s: KeyStore) => s.importMnemonic('bottom drive obey lake')],
    ['a misspelt mnemonic', (s: KeyStore) => s.importMnemonic(DEV_PHRASE.replace('lake', 'lakes'))],
    ['a bad checksum', (s: KeyStore) => s.importMnemonic(DEV_PHRASE.replace('walk', 'bottom'))],
    ['a short seed', (s: KeyStore) => s.importSeed('0x1234')],
    ['a keystore that is not JSON', (s: KeyStore) => s.importPolkadotJson('{nope', 'x')],
    ['an ed25519 keystore', (s: KeyStore) => s.importPolkadotJson(asEd25519Keystore(foreignKeystore.json), foreignKeystore.password)],
  ])('rejects %s with a clear error', async (_label, act) => {
    const s = store();
    await expect(act(s)).rejects.toBeInstanceOf(BadKeyInput);
    expect(s.info()).toBeNull();
  });

  it('removes the key', async () => {
    const s = store();
    await s.importMnemonic(DEV_PHRASE);
    expect(s.remove()).toBe(true);
    expect(s.info()).toBeNull();
    expect(s.remove()).toBe(false);
    await expect(s.signer()).rejects.toBeInstanceOf(NoMiningKey);
  });
});

describe('comx key files', () => {
  // Built from SEED.md's description: {"data": "<JSON string>", "encrypted", "timestamp"}; data
  // holds hex without 0x; encrypted data is base64(nonce24 ‖ secretbox) keyed by blake2b-256(password).
  function comxKeyData(mnemonic: string) {
    const seed = mnemonicToMiniSecret(mnemonic);
    const pair = sr25519PairFromSeed(seed);
    return {
      crypto_type: 1,
      seed_hex: u8aToHex(seed, -1, false),
      derive_path: null,
      path: 'miner',
      ss58_format: 42,
      public_key: u8aToHex(pair.publicKey, -1, false),
      // Not polkadot-js's form (SEED.md); a distinct value so the importer is seen not to use it.
      private_key: u8aToHex(randomAsU8a(64), -1, false),
      mnemonic,
      ss58_address: keyring.encodeAddress(pair.publicKey),
    };
  }
  function encryptComx(plain: string, password: string): string {
    const nonce = randomAsU8a(24);
    const { encrypted } = naclEncrypt(stringToU8a(plain), blake2AsU8a(stringToU8a(password), 256), nonce);
    return Buffer.concat([nonce, encrypted]).toString('base64');
  }

  it('imports a plain key file from its seed_hex, keeping the mnemonic', async () => {
    const data = comxKeyData(DEV_PHRASE);
    const file = JSON.stringify({ data: JSON.stringify(data), encrypted: false, timestamp: 1_700_000_000 });
    const s = store();
    expect(await s.importComx(file)).toMatchObject({ address: DEV_ROOT_ADDRESS, source: 'comx', hasMnemonic: true });
  });

  it('imports a key file with only seed_hex', async () => {
    const data = { ...comxKeyData(DEV_PHRASE), mnemonic: null };
    const s = store();
    const info = await s.importComx(JSON.stringify({ data: JSON.stringify(data), encrypted: false, timestamp: 1 }));
    expect(info).toMatchObject({ address: DEV_ROOT_ADDRESS, hasMnemonic: false });
  });

  it('imports an encrypted key file with the right password only', async () => {
    const data = comxKeyData(DEV_PHRASE);
    const file = JSON.stringify({ data: encryptComx(JSON.stringify(data), 'comx pw'), encrypted: true, timestamp: 1 });
    await expect(store().importComx(file)).rejects.toThrow(/encrypted; give its password/);
    await expect(store().importComx(file, 'other')).rejects.toBeInstanceOf(WrongKeyFilePassword);
    expect((await store().importComx(file, 'comx pw')).address).toBe(DEV_ROOT_ADDRESS);
  });

  it('refuses a file whose address is not its seed, and one without seed or mnemonic', async () => {
    const data = { ...comxKeyData(DEV_PHRASE), ss58_address: keyring.addFromUri('//Other').address };
    await expect(store().importComx(JSON.stringify({ data: JSON.stringify(data), encrypted: false }))).rejects.toThrow(
      /belongs to another key/,
    );
    const bare = { ...comxKeyData(DEV_PHRASE), seed_hex: null, mnemonic: null };
    await expect(store().importComx(JSON.stringify({ data: JSON.stringify(bare), encrypted: false }))).rejects.toThrow(
      /neither seed_hex nor mnemonic/,
    );
  });
});

describe('sealing and the signer', () => {
  it('opens only with the right passphrase', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nya-wallet-'));
    dirs.push(dir);
    await new KeyStore({ dataDir: dir, box: cheapBox('right') }).importMnemonic(DEV_PHRASE);
    await expect(loadMiningSigner(dir, cheapBox('wrong'))).rejects.toBeInstanceOf(WrongPassphrase);
    expect((await loadMiningSigner(dir, cheapBox('right'))).address).toBe(DEV_ROOT_ADDRESS);
  });

  it('reports a damaged key file clearly', async () => {
    const s = store();
    await s.importMnemonic(DEV_PHRASE);
    writeFileSync(s.path, '{"version":1');
    expect(() => s.info()).toThrow(/is not JSON; it is damaged/);
  });

  it('signs requests the validator verifies', async () => {
    const s = store();
    await s.importMnemonic(DEV_PHRASE);
    const signer = await s.signer();
    const body = new TextEncoder().encode('{"client":"nya-miner/test"}');
    const now = 1_760_000_000_000;
    const nonce = '0123456789abcdef0123456789abcdef';
    const signature = signer.sign(signingMessage('POST', '/v1/lease', now, nonce, body));
    const headers = {
      'x-nya-key': signer.address,
      'x-nya-timestamp': String(now),
      'x-nya-nonce': nonce,
      'x-nya-signature': u8aToHex(signature),
    };
    expect(verifyRequestSignature(headers, 'POST', '/v1/lease', body, now)).toMatchObject({ ok: true, address: DEV_ROOT_ADDRESS });
    // The shared signRequest with the same pair (polkadot-js derived) gives headers that verify the same way.
    const pair = keyring.addFromUri(DEV_PHRASE);
    expect(pair.address).toBe(signer.address);
    const viaShared = signRequest(
      sr25519PairFromSeed(mnemonicToMiniSecret(DEV_PHRASE)),
      'POST',
      '/v1/lease',
      { sha256Hex: sha256Hex(body) },
      now,
    );
    expect(viaShared['x-nya-key']).toBe(signer.address);
  });

  it('never prints the secret from the store, the signer or its info', async () => {
    const s = store();
    await s.importMnemonic(DEV_PHRASE);
    const signer = await s.signer();
    const pair = sr25519PairFromSeed(mnemonicToMiniSecret(DEV_PHRASE));
    const secrets = [
      DEV_PHRASE,
      'obey lake',
      u8aToHex(pair.secretKey, -1, false),
      u8aToHex(pair.secretKey.subarray(0, 32), -1, false),
      u8aToHex(mnemonicToMiniSecret(DEV_PHRASE), -1, false),
      Buffer.from(u8aToU8a(pair.secretKey)).toString('base64').slice(0, 40),
    ];
    expectNoSecretIn(s, secrets);
    expectNoSecretIn(signer, secrets);
    expectNoSecretIn(s.info(), secrets);
    expectNoSecretIn({ nested: { signer, s } }, secrets);
    expect(JSON.stringify(signer)).toContain(DEV_ROOT_ADDRESS);
  });
});
