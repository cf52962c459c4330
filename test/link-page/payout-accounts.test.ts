import { encodeAddress } from '@polkadot/util-crypto';
import { describe, expect, it } from 'vitest';
import { payoutAccounts, type ExtensionAccount } from '../../src-renderer/link-page/payout-accounts';

const KEY = new Uint8Array(32).fill(7);
const PREFIX_42 = encodeAddress(KEY, 42);
const account = (address: string, type?: string | null, name?: string): ExtensionAccount => ({
  address,
  type,
  meta: { name, source: 'talisman' },
});

describe('payoutAccounts', () => {
  it('keeps sr25519 accounts, in prefix 42 whatever prefix the extension used, with where they came from', () => {
    const polkadotForm = encodeAddress(KEY, 0);
    expect(payoutAccounts([account(polkadotForm, 'sr25519', 'savings')], 42)).toEqual([
      { address: PREFIX_42, extensionAddress: polkadotForm, name: 'savings', source: 'talisman' },
    ]);
  });

  it('drops Ethereum and ed25519 accounts, which the validator cannot verify', () => {
    const listed = [
      account(`0x${'ab'.repeat(20)}`, 'ethereum'),
      account(encodeAddress(KEY, 42), 'ed25519'),
      account(encodeAddress(KEY, 2), 'ecdsa'),
    ];
    expect(payoutAccounts(listed, 42)).toEqual([]);
  });

  it('keeps an untyped account only when its address holds a 32-byte key', () => {
    const listed = [account(encodeAddress(KEY, 2)), account(`0x${'ab'.repeat(20)}`, null), account('not an address', undefined)];
    expect(payoutAccounts(listed, 42).map((a) => a.address)).toEqual([PREFIX_42]);
  });

  it('names an account without a name null', () => {
    expect(payoutAccounts([account(PREFIX_42, 'sr25519', '')], 42)[0]?.name).toBeNull();
  });
});
