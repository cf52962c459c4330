import type { ApiPromise } from '@polkadot/api';
import { connectCommune } from '../../src-node/commune-api';
import type { MinerSource } from './miner-registry';
import { withTimeout } from '../../src-node/timeout';

/**
 * Commune's subspace pallet keeps each subnet's modules as `SubspaceModule::Keys`, a double map
 * netuid → uid → module key (`comx module list` reads the same); `--miners-storage` names
 * another item should a runtime upgrade move it.
 */
export const DEFAULT_KEYS_STORAGE = 'subspaceModule.keys';
const DEFAULT_TIMEOUT_MS = 30_000;

export interface SubnetMinersOptions {
  endpoint: string;
  netuid: number;
  /** `pallet.item` as @polkadot/api names it: a map whose first key is the netuid and whose values are account ids. */
  storage?: string;
  /** Connect and per-read timeout. */
  timeoutMs?: number;
}

/**
 * The keys registered on one Commune subnet, read whole on each refresh. One connection is kept
 * between reads; a failed read drops it and the next opens a fresh one (@polkadot/api's own
 * reconnecting is off, so a dead node costs one timeout per refresh, not a retry loop).
 */
export function subnetMiners({
  endpoint,
  netuid,
  storage = DEFAULT_KEYS_STORAGE,
  timeoutMs = DEFAULT_TIMEOUT_MS,
}: SubnetMinersOptions): MinerSource {
  const [pallet, item] = storage.split('.');
  if (!pallet || !item) throw new Error(`The keys storage must be written pallet.item (e.g. ${DEFAULT_KEYS_STORAGE}), got '${storage}'.`);
  let api: ApiPromise | null = null;

  // The node is named here: the registry logs this message alone.
  const connect = (): Promise<ApiPromise> =>
    connectCommune(endpoint, timeoutMs).catch((error: unknown) => {
      throw new Error(`${endpoint}: ${error instanceof Error ? error.message : String(error)}`);
    });

  const read = async (connected: ApiPromise): Promise<string[]> => {
    const query = connected.query[pallet]?.[item];
    if (!query) throw new Error(`${endpoint} has no storage ${storage}; is it a Commune node?`);
    const entries = await withTimeout(query.entries(netuid), timeoutMs, `reading ${storage}(${netuid})`);
    // An OptionQuery map answers null for a hole; a ValueQuery map, the account id itself.
    return entries.map(([, value]) => value.toJSON()).filter((key): key is string => typeof key === 'string');
  };

  return {
    description: `subnet ${netuid} on ${endpoint}`,
    mustLoadAtStart: false,
    async load() {
      api ??= await connect();
      try {
        return await read(api);
      } catch (error) {
        const dropped = api;
        api = null;
        await dropped.disconnect().catch(() => undefined);
        throw error;
      }
    },
    async dispose() {
      const dropped = api;
      api = null;
      await dropped?.disconnect().catch(() => undefined);
    },
  };
}
