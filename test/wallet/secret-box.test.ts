import { describe, expect, it } from 'vitest';
import { passphraseBox, WrongPassphrase } from '../../src-main/wallet';

const plain = new TextEncoder().encode('{"kind":"seed","seed":"0x00"}');

describe('passphraseBox (scrypt N=2^15 r=8 p=1, AES-256-GCM)', () => {
  it('opens what it sealed, with a fresh salt and nonce each time', async () => {
    const box = passphraseBox('a long passphrase');
    const a = await box.seal(plain);
    const b = await box.seal(plain);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    expect(Buffer.from(await box.open(a)).equals(Buffer.from(plain))).toBe(true);
    expect(Buffer.from(await passphraseBox('a long passphrase').open(b)).equals(Buffer.from(plain))).toBe(true);
    // The header records the cost it was sealed with: log2 N = 15, r = 8, p = 1.
    expect([...a.subarray(4, 8)]).toEqual([1, 15, 8, 1]);
    expect(Buffer.from(a).includes(Buffer.from(plain))).toBe(false);
  });

  it('refuses a wrong passphrase, a flipped bit and a tampered header with the same clear error', async () => {
    const sealed = await passphraseBox('right').seal(plain);
    await expect(passphraseBox('wrong').open(sealed)).rejects.toBeInstanceOf(WrongPassphrase);
    const flipped = sealed.slice();
    flipped[flipped.length - 20]! ^= 1;
    await expect(passphraseBox('right').open(flipped)).rejects.toThrow(/passphrase is wrong, or the wallet file is damaged/);
    const salted = sealed.slice();
    salted[10]! ^= 1;
    await expect(passphraseBox('right').open(salted)).rejects.toBeInstanceOf(WrongPassphrase);
    await expect(passphraseBox('right').open(new Uint8Array(10))).rejects.toThrow(/not in the passphrase format/);
  });

  it('refuses an empty passphrase', () => {
    expect(() => passphraseBox('')).toThrow(/must not be empty/);
  });
});
