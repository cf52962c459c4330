import { decodeAddress, encodeAddress } from '@polkadot/util-crypto';

/** The fields of an account from extension-dapp's `web3Accounts` (its InjectedAccountWithMeta) used here. */
export interface ExtensionAccount {
  address: string;
  type?: string | null;
  meta: { name?: string | null; source: string };
}

/** An account the page offers as the payout account. */
export interface PayoutAccount {
  /** In the page's SS58 prefix: what is shown and sent to Nya Miner. */
  address: string;
  /** As the extension listed it: what its signer looks the key up by. */
  extensionAddress: string;
  name: string | null;
  /** The extension that holds it. */
  source: string;
}

/**
 * The accounts that can sign a payout link. The validator verifies sr25519 only, and Talisman
 * and SubWallet also list Ethereum accounts, which would fail only after the user signed. An
 * account without a type (injectors written before `type` was added to InjectedAccount) passes,
 * as it does extension-dapp's own `accountType` filter, but only if its address holds a 32-byte
 * key: an untyped Ethereum address (20 bytes) never does. If such a key is not sr25519, main
 * refuses the signature before the validator sees it, and the challenge stays usable.
 */
export function payoutAccounts(accounts: readonly ExtensionAccount[], ss58Prefix: number): PayoutAccount[] {
  return accounts.flatMap((account) => {
    if (account.type && account.type !== 'sr25519') return [];
    const publicKey = accountKey(account.address);
    if (!publicKey) return [];
    return [
      {
        address: encodeAddress(publicKey, ss58Prefix),
        extensionAddress: account.address,
        name: account.meta.name || null,
        source: account.meta.source,
      },
    ];
  });
}

function accountKey(address: string): Uint8Array | null {
  try {
    const publicKey = decodeAddress(address);
    return publicKey.length === 32 ? publicKey : null;
  } catch {
    return null;
  }
}
