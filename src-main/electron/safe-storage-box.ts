import type { SafeStorage } from 'electron';
import type { SecretBox } from '../wallet';

export const SAFE_STORAGE_BOX_KIND = 'electron-safe-storage';

/** The OS keychain cannot protect a secret here; the wallet refuses to store one rather than store it weakly. */
export class KeychainUnavailable extends Error {
  constructor(detail: string) {
    super(
      `The wallet secret cannot be stored safely: ${detail}. Install and unlock a keyring (GNOME Keyring or ` +
        'KWallet), or run the headless miner (`nya mine`), which seals the wallet with a passphrase.',
    );
    this.name = 'KeychainUnavailable';
  }
}

/**
 * The wallet's SecretBox in the desktop app: Electron `safeStorage` (DPAPI on Windows, the
 * Keychain on macOS, libsecret/KWallet on Linux). The secret bytes go through as base64 because
 * safeStorage encrypts strings. Linux's `basic_text` backend "encrypts" with a fixed, public key,
 * so it counts as unavailable.
 */
export function safeStorageBox(
  safeStorage: Pick<SafeStorage, 'isAsyncEncryptionAvailable' | 'encryptStringAsync' | 'decryptStringAsync' | 'getSelectedStorageBackend'>,
  platform: NodeJS.Platform = process.platform,
): SecretBox {
  const ensureAvailable = async () => {
    if (!(await safeStorage.isAsyncEncryptionAvailable())) throw new KeychainUnavailable('the OS keychain is not available');
    if (platform === 'linux' && safeStorage.getSelectedStorageBackend() === 'basic_text') {
      throw new KeychainUnavailable('no keyring was found, and Electron would fall back to a fixed, public key');
    }
  };
  return {
    kind: SAFE_STORAGE_BOX_KIND,
    async seal(plain) {
      await ensureAvailable();
      const sealed = await safeStorage.encryptStringAsync(Buffer.from(plain).toString('base64'));
      return new Uint8Array(sealed);
    },
    async open(sealed) {
      await ensureAvailable();
      const { result } = await safeStorage.decryptStringAsync(Buffer.from(sealed));
      return new Uint8Array(Buffer.from(result, 'base64'));
    },
  };
}
