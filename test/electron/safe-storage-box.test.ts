import { describe, expect, it } from 'vitest';
import { KeychainUnavailable, SAFE_STORAGE_BOX_KIND, safeStorageBox } from '../../src-main/electron/safe-storage-box';

/** Stands in for the OS keychain: reversible, and visibly not the plain text. */
function fakeSafeStorage(available = true, backend: 'gnome_libsecret' | 'basic_text' = 'gnome_libsecret') {
  const flip = (b: Buffer) => Buffer.from(b.map((x) => x ^ 0x5a));
  return {
    isAsyncEncryptionAvailable: async () => available,
    getSelectedStorageBackend: () => backend,
    encryptStringAsync: async (s: string) => flip(Buffer.from(`v1:${s}`)),
    decryptStringAsync: async (b: Buffer) => ({ shouldReEncrypt: false, result: flip(b).toString().replace(/^v1:/, '') }),
  };
}

describe('safeStorageBox', () => {
  const secret = new Uint8Array([0, 1, 2, 250, 255, 128, 64]);

  it('round-trips arbitrary bytes through the keychain', async () => {
    const box = safeStorageBox(fakeSafeStorage(), 'linux');
    expect(box.kind).toBe(SAFE_STORAGE_BOX_KIND);
    const sealed = await box.seal(secret);
    expect(Buffer.from(sealed).includes(Buffer.from(secret))).toBe(false);
    expect(await box.open(sealed)).toEqual(secret);
  });

  it('refuses to store when the keychain is unavailable', async () => {
    const box = safeStorageBox(fakeSafeStorage(false), 'win32');
    await expect(box.seal(secret)).rejects.toThrow(KeychainUnavailable);
    await expect(box.seal(secret)).rejects.toThrow(/cannot be stored safely: the OS keychain is not available/);
  });

  it("refuses Linux's basic_text backend, whose key is public", async () => {
    const box = safeStorageBox(fakeSafeStorage(true, 'basic_text'), 'linux');
    await expect(box.seal(secret)).rejects.toThrow(/fixed, public key/);
    // The same backend name means nothing elsewhere.
    await expect(safeStorageBox(fakeSafeStorage(true, 'basic_text'), 'darwin').seal(secret)).resolves.toBeInstanceOf(Uint8Array);
  });
});
