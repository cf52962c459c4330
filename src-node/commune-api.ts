import { ApiPromise, WsProvider } from '@polkadot/api';
import { withTimeout } from './timeout';

/** The public Commune RPC, for the wallet's balances and the validator's registered miners. */
export const DEFAULT_COMMUNE_RPC = 'wss://api.communeai.net';

/**
 * An `ApiPromise` on `endpoint` with its metadata loaded, or a rejection after `timeoutMs`. Its
 * own reconnecting is off (autoConnectMs 0): @polkadot/api would otherwise retry every 2.5 s
 * forever; callers reconnect on their own schedule. A failed attempt leaves no socket open.
 */
export async function connectCommune(endpoint: string, timeoutMs: number): Promise<ApiPromise> {
  const provider = new WsProvider(endpoint, 0, undefined, timeoutMs);
  let api: ApiPromise | null = null;
  try {
    await withTimeout(provider.connect(), timeoutMs, 'connecting');
    api = new ApiPromise({ provider, noInitWarn: true, throwOnConnect: true });
    await withTimeout(api.isReadyOrError, timeoutMs, 'loading the chain metadata');
    return api;
  } catch (error) {
    await (api ?? provider).disconnect().catch(() => undefined);
    throw error;
  }
}
