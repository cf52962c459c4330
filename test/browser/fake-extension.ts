import { hexToU8a, u8aToHex } from '@polkadot/util';
import { decodeAddress, sr25519Sign } from '@polkadot/util-crypto';
import type { SigningPair } from '../../src-shared/request-signing';

/** An account as an extension lists it; Talisman and SubWallet list Ethereum accounts beside sr25519 ones. */
export interface FakeAccount {
  address: string;
  name: string;
  type?: 'sr25519' | 'ed25519' | 'ethereum';
}

/**
 * The one-time link page in Chromium. A fake wallet extension is injected as
 * `window.injectedWeb3['polkadot-js']`, with the enable → accounts/signer shape a real one has
 * and @polkadot/extension-dapp reads; its signRaw wraps the bytes in <Bytes>…</Bytes> as real
 * extensions do and signs in this Node process through an exposed function, so the secret never
 * enters the page.
 */
export const FAKE_EXTENSION = (accounts: FakeAccount[]) => {
  const w = window as unknown as { injectedWeb3: Record<string, unknown>; nyaTestSign(address: string, hex: string): Promise<string> };
  w.injectedWeb3 = {
    'polkadot-js': {
      version: '0.58.1',
      enable: async (origin: string) => {
        (window as unknown as { enabledBy: string }).enabledBy = origin;
        return {
          accounts: { get: async () => accounts, subscribe: () => () => undefined },
          signer: {
            signRaw: async (payload: { address: string; data: string; type: string }) => {
              if (payload.type !== 'bytes') throw new Error('only bytes');
              return { id: 1, signature: await w.nyaTestSign(payload.address, payload.data) };
            },
          },
        };
      },
    },
  };
};

/**
 * What the page's `nyaTestSign` runs in this Node process: extensions look the key up by its public
 * key, whatever the prefix of the address, and sign u8aWrapBytes(data).
 */
export function extensionSigner(pairs: SigningPair[]): (address: string, hex: string) => string {
  return (address, hex) => {
    const pair = pairs.find((p) => u8aToHex(p.publicKey) === u8aToHex(decodeAddress(address)));
    if (!pair) throw new Error(`the test extension holds no key for ${address}`);
    const wrapped = new Uint8Array([...new TextEncoder().encode('<Bytes>'), ...hexToU8a(hex), ...new TextEncoder().encode('</Bytes>')]);
    return u8aToHex(sr25519Sign(wrapped, pair));
  };
}
