import { web3Accounts, web3Enable, web3FromSource } from '@polkadot/extension-dapp';
import { stringToHex } from '@polkadot/util';
import { payoutAccounts, type PayoutAccount } from './payout-accounts';

type InjectedWindow = Window & { injectedWeb3?: Record<string, { enable?: unknown } | undefined> };

/** The wallet extensions injected so far, by the name they inject under (polkadot-js, talisman, subwallet-js). */
export function injectedExtensionNames(): string[] {
  const injected = (window as InjectedWindow).injectedWeb3 ?? {};
  return Object.keys(injected).filter((name) => typeof injected[name]?.enable === 'function');
}

class ExtensionNotConnected extends Error {
  constructor(readonly extension: string) {
    super('it refused this page or failed to start. Approve the request in the extension, or reload this page.');
    this.name = 'ExtensionNotConnected';
  }
}

type Enabled = Awaited<ReturnType<typeof web3Enable>>;
let enabled: Promise<Enabled> | null = null;

/**
 * Enables the extensions, once: extension-dapp has no per-extension enable, so web3Enable asks
 * every extension injected so far. It is asked again only for an extension the last round did
 * not enable (one that injected late, or that the user refused and now retries).
 */
async function enable(appName: string, extension: string): Promise<void> {
  const has = (list: Enabled) => list.some((e) => e.name === extension);
  if (enabled && has(await enabled)) return;
  enabled = web3Enable(appName);
  if (!has(await enabled)) throw new ExtensionNotConnected(extension);
}

/** The payout-capable accounts `extension` shares with this page, in the page's SS58 prefix. */
export async function accountsOf(extension: string, appName: string, ss58Prefix: number): Promise<PayoutAccount[]> {
  await enable(appName, extension);
  return payoutAccounts(await web3Accounts({ extensions: [extension], accountType: ['sr25519'] }), ss58Prefix);
}

/**
 * Signs `message` (UTF-8) with the account's extension; null where that extension cannot sign
 * raw bytes. The injector comes from the extension the user picked (web3FromSource, not
 * web3FromAddress): the same key may sit in two extensions, and the prompt must open in the one
 * the user connected.
 */
export async function signMessage(account: PayoutAccount, message: string): Promise<string | null> {
  const { signer } = await web3FromSource(account.source);
  if (typeof signer.signRaw !== 'function') return null;
  const { signature } = await signer.signRaw({ address: account.extensionAddress, data: stringToHex(message), type: 'bytes' });
  return signature;
}
