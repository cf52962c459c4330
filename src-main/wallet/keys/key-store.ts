import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { cryptoWaitReady, mnemonicGenerate } from '@polkadot/util-crypto';
import { z } from 'zod';
import type { RequestSigner } from '../../../src-shared/request-signer';
import { addressOf } from '../../../src-shared/request-signing';
import { fsyncDir, writeFileAtomicSync } from '../../../src-node/atomic-write';
import { parseComxKeyFile, parsePolkadotJson, toPolkadotJson } from './key-files';
import { deserializeSecret, mnemonicSecret, pairOf, seedSecret, serializeSecret, type KeySecret } from './key-secret';
import type { SecretBox } from './secret-box';
import { signerFromPair } from './signer';

export const KEY_SOURCES = ['created', 'mnemonic', 'seed', 'polkadot-json', 'comx'] as const;
export type KeySource = (typeof KEY_SOURCES)[number];

/** What may be shown about the mining key: nothing here is secret. */
export interface MiningKeyInfo {
  address: string;
  source: KeySource;
  createdAtMs: number;
  /** The SecretBox kind that sealed it (`passphrase-...`, `electron-safe-storage`). */
  boxKind: string;
  /** Whether `exportMnemonic` can work (keys imported from a seed or keystore have none). */
  hasMnemonic: boolean;
}

const KeyFile = z.object({
  version: z.literal(1),
  address: z.string(),
  source: z.enum(KEY_SOURCES),
  createdAtMs: z.number().int(),
  boxKind: z.string(),
  hasMnemonic: z.boolean(),
  sealedBase64: z.string().min(1),
});
type KeyFile = z.infer<typeof KeyFile>;

export class NoMiningKey extends Error {
  constructor(readonly path: string) {
    super(`There is no mining key at ${path}. Create one with 'nya wallet create' or import one with 'nya wallet import'.`);
    this.name = 'NoMiningKey';
  }
}

export class MiningKeyExists extends Error {
  constructor(readonly address: string) {
    super(`A mining key (${address}) already exists; remove it first ('nya wallet remove') so it is not overwritten by accident.`);
    this.name = 'MiningKeyExists';
  }
}

export interface KeyStoreOptions {
  dataDir: string;
  box: SecretBox;
  now?: () => number;
}

let ready: Promise<boolean> | null = null;
const cryptoReady = () => (ready ??= cryptoWaitReady());

/**
 * The mining key on disk: `<dataDir>/wallet/mining-key.json`, its secret sealed by the injected
 * SecretBox. Only `create` (the new mnemonic, once) and the explicit exports return secret
 * material; everything else returns addresses and `MiningKeyInfo`.
 */
export class KeyStore {
  readonly path: string;
  private readonly dir: string;
  private readonly now: () => number;

  constructor(private readonly o: KeyStoreOptions) {
    this.dir = join(o.dataDir, 'wallet');
    this.path = join(this.dir, 'mining-key.json');
    this.now = o.now ?? Date.now;
  }

  /** The stored key's public facts, or null when there is none. Needs no passphrase. */
  info(): MiningKeyInfo | null {
    const file = this.readFile();
    if (!file) return null;
    const { sealedBase64: _sealed, version: _version, ...info } = file;
    return info;
  }

  async create(): Promise<{ address: string; mnemonic: string }> {
    await cryptoReady();
    this.refuseOverwrite();
    const mnemonic = mnemonicGenerate(12);
    const info = await this.store(mnemonicSecret(mnemonic), 'created');
    return { address: info.address, mnemonic };
  }

  async importMnemonic(mnemonic: string): Promise<MiningKeyInfo> {
    await cryptoReady();
    return this.store(mnemonicSecret(mnemonic), 'mnemonic');
  }

  async importSeed(hex: string): Promise<MiningKeyInfo> {
    await cryptoReady();
    return this.store(seedSecret(hex), 'seed');
  }

  async importPolkadotJson(text: string, password: string): Promise<MiningKeyInfo> {
    await cryptoReady();
    return this.store(parsePolkadotJson(text, password), 'polkadot-json');
  }

  /** `password` only for encrypted comx key files. */
  async importComx(text: string, password?: string): Promise<MiningKeyInfo> {
    await cryptoReady();
    return this.store(parseComxKeyFile(text, password), 'comx');
  }

  async exportMnemonic(): Promise<string> {
    const secret = await this.openSecret();
    if (secret.kind !== 'mnemonic') {
      throw new Error('This mining key was imported without a mnemonic; export it as a polkadot-js keystore instead.');
    }
    return secret.mnemonic;
  }

  /** A polkadot-js keystore (JSON text) encrypted with `password`, importable by polkadot.js apps and wallets. */
  async exportPolkadotJson(password: string): Promise<string> {
    const secret = await this.openSecret();
    return toPolkadotJson(secret, password, 'nya mining key');
  }

  /**
   * Seals the key again with another box: a new passphrase, or moving a headless key into the
   * desktop app's keychain. Returns a store that uses the new box.
   */
  async reseal(next: SecretBox): Promise<KeyStore> {
    const file = this.readFile();
    if (!file) throw new NoMiningKey(this.path);
    const secret = await this.openSecret();
    const sealed = await next.seal(serializeSecret(secret));
    this.writeFile({ ...file, boxKind: next.kind, sealedBase64: Buffer.from(sealed).toString('base64') });
    return new KeyStore({ ...this.o, box: next });
  }

  async signer(): Promise<RequestSigner> {
    const secret = await this.openSecret();
    return signerFromPair(pairOf(secret));
  }

  /** Deletes the key file; returns whether there was one. */
  remove(): boolean {
    if (!existsSync(this.path)) return false;
    rmSync(this.path);
    fsyncDir(this.dir);
    return true;
  }

  /** What logging the store prints: never the sealed secret, and never a throw from a damaged file. */
  toJSON(): object {
    let address: string | null = null;
    try {
      address = this.info()?.address ?? null;
    } catch {
      // A damaged file: the path is enough to act on.
    }
    return { kind: 'KeyStore', path: this.path, address };
  }

  [inspect.custom](): string {
    return `KeyStore { path: '${this.path}' }`;
  }

  private refuseOverwrite(): void {
    const existing = this.readFile();
    if (existing) throw new MiningKeyExists(existing.address);
  }

  private async store(secret: KeySecret, source: KeySource): Promise<MiningKeyInfo> {
    this.refuseOverwrite();
    const address = addressOf(pairOf(secret).publicKey);
    const sealed = await this.o.box.seal(serializeSecret(secret));
    const file: KeyFile = {
      version: 1,
      address,
      source,
      createdAtMs: this.now(),
      boxKind: this.o.box.kind,
      hasMnemonic: secret.kind === 'mnemonic',
      sealedBase64: Buffer.from(sealed).toString('base64'),
    };
    this.writeFile(file);
    return this.info()!;
  }

  private writeFile(file: KeyFile): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    writeFileAtomicSync(this.path, `${JSON.stringify(file, null, 2)}\n`);
  }

  private async openSecret(): Promise<KeySecret> {
    await cryptoReady();
    const file = this.readFile();
    if (!file) throw new NoMiningKey(this.path);
    if (file.boxKind !== this.o.box.kind) {
      throw new Error(
        `The mining key at ${this.path} was sealed with '${file.boxKind}', but this process opens '${this.o.box.kind}' boxes.`,
      );
    }
    const secret = deserializeSecret(await this.o.box.open(Buffer.from(file.sealedBase64, 'base64')));
    if (addressOf(pairOf(secret).publicKey) !== file.address) {
      throw new Error(`The mining key at ${this.path} is damaged: its secret does not belong to ${file.address}.`);
    }
    return secret;
  }

  private readFile(): KeyFile | null {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new Error(`The mining key file ${this.path} is not JSON; it is damaged. Restore it from a backup or import the key again.`);
    }
    const parsed = KeyFile.safeParse(json);
    if (!parsed.success) {
      throw new Error(
        `The mining key file ${this.path} is not in the format this build reads (${parsed.error.issues[0]?.message ?? 'invalid'}).`,
      );
    }
    return parsed.data;
  }
}

/** For reading public facts and removing: a box that opens nothing. */
const NO_BOX: SecretBox = {
  kind: 'none',
  seal: () => Promise.reject(new Error('This key store was opened without a passphrase or keychain; it cannot store a secret.')),
  open: () => Promise.reject(new Error('This key store was opened without a passphrase or keychain; it cannot open the secret.')),
};

/** A store for `info()` and `remove()`, which need no passphrase. */
export function keyStoreWithoutSecret(dataDir: string): KeyStore {
  return new KeyStore({ dataDir, box: NO_BOX });
}

/** The signer `nya mine` and the desktop app sign validator requests with. */
export function loadMiningSigner(dataDir: string, box: SecretBox): Promise<RequestSigner> {
  return new KeyStore({ dataDir, box }).signer();
}
