import { createCipheriv, createDecipheriv, randomBytes, scrypt as scryptCallback } from 'node:crypto';

/**
 * Seals the wallet's secret at rest. The desktop app implements it with Electron `safeStorage`
 * (the OS keychain); headless rigs use `passphraseBox`. `kind` is stored beside the sealed bytes,
 * so a file sealed by one kind is never handed to another.
 */
export interface SecretBox {
  readonly kind: string;
  seal(plain: Uint8Array): Promise<Uint8Array>;
  open(sealed: Uint8Array): Promise<Uint8Array>;
}

/** The sealed bytes do not open with this box: a wrong passphrase, or a damaged file. */
export class WrongPassphrase extends Error {
  constructor(detail = 'the passphrase is wrong, or the wallet file is damaged') {
    super(`The wallet could not be opened: ${detail}.`);
    this.name = 'WrongPassphrase';
  }
}

const PASSPHRASE_BOX_KIND = 'passphrase-scrypt-aes256gcm';

// Layout: MAGIC(4) ‖ VERSION(1) ‖ log2(N)(1) ‖ r(1) ‖ p(1) ‖ salt(16) ‖ nonce(12) ‖ ciphertext ‖ tag(16).
// The scrypt parameters travel in the header so a later version can raise them and still open old files.
const MAGIC = Buffer.from('NYAW', 'ascii');
const VERSION = 1;
const HEADER_BYTES = MAGIC.length + 4 + 16 + 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

/** scrypt N=2^15, r=8, p=1: the interactive-login parameters RFC 7914 and libsodium recommend (~32 MiB, ~0.1 s). */
const DEFAULT_COST = { log2N: 15, r: 8, p: 1 };

function deriveKey(passphrase: string, salt: Uint8Array, cost: { log2N: number; r: number; p: number }): Promise<Buffer> {
  const N = 2 ** cost.log2N;
  // node's default maxmem (32 MiB) is exactly 128·N·r for N=2^15, r=8, which it refuses; give it room.
  const maxmem = 256 * N * cost.r;
  return new Promise((resolve, reject) =>
    scryptCallback(passphrase.normalize('NFKC'), salt, KEY_BYTES, { N, r: cost.r, p: cost.p, maxmem }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

export function passphraseBox(passphrase: string, cost = DEFAULT_COST): SecretBox {
  if (passphrase.length === 0) throw new Error('The wallet passphrase must not be empty.');
  return {
    kind: PASSPHRASE_BOX_KIND,
    async seal(plain) {
      const salt = randomBytes(16);
      const nonce = randomBytes(12);
      const key = await deriveKey(passphrase, salt, cost);
      const header = Buffer.concat([MAGIC, Buffer.from([VERSION, cost.log2N, cost.r, cost.p]), salt, nonce]);
      const cipher = createCipheriv('aes-256-gcm', key, nonce);
      // The header is authenticated too: tampering with the cost or salt fails like a wrong passphrase.
      cipher.setAAD(header);
      const body = Buffer.concat([cipher.update(plain), cipher.final()]);
      key.fill(0);
      return new Uint8Array(Buffer.concat([header, body, cipher.getAuthTag()]));
    },
    async open(sealed) {
      const bytes = Buffer.from(sealed);
      if (bytes.length < HEADER_BYTES + TAG_BYTES || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) {
        throw new WrongPassphrase('the sealed secret is not in the passphrase format');
      }
      const version = bytes[4];
      if (version !== VERSION) throw new WrongPassphrase(`the sealed secret has format version ${version}, this build reads ${VERSION}`);
      const cost = { log2N: bytes[5]!, r: bytes[6]!, p: bytes[7]! };
      if (cost.log2N < 10 || cost.log2N > 20 || cost.r < 1 || cost.r > 32 || cost.p < 1 || cost.p > 16) {
        throw new WrongPassphrase('the sealed secret names scrypt parameters outside the accepted range');
      }
      const header = bytes.subarray(0, HEADER_BYTES);
      const salt = bytes.subarray(8, 24);
      const nonce = bytes.subarray(24, HEADER_BYTES);
      const key = await deriveKey(passphrase, salt, cost);
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, nonce);
        decipher.setAAD(header);
        decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
        const plain = Buffer.concat([decipher.update(bytes.subarray(HEADER_BYTES, bytes.length - TAG_BYTES)), decipher.final()]);
        return new Uint8Array(plain);
      } catch {
        throw new WrongPassphrase();
      } finally {
        key.fill(0);
      }
    },
  };
}
