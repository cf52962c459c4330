import type { MinerRegistry } from '../service/miner-registry';
import { ProtocolError } from './protocol-error';

/** How soon to ask again while the registry has not loaded its first set. */
const NOT_LOADED_RETRY_AFTER_MS = 30_000;

/**
 * Refuses a key the registry does not hold, where the validator has one (`--miners-from`).
 * Leases and result uploads pass here; account reads and payout linking do not, so a key
 * removed from the set can still see and be paid what it earned.
 */
export function requireRegistered(miners: MinerRegistry | null, key: string): void {
  if (!miners) return;
  if (!miners.loaded) {
    throw new ProtocolError(
      'unavailable',
      `This validator leases only to registered miners and has not yet read ${miners.source}; try again later.`,
      NOT_LOADED_RETRY_AFTER_MS,
    );
  }
  if (!miners.has(key)) {
    throw new ProtocolError(
      'not-registered',
      `${key} is not a registered miner of this validator (${miners.source}); register the key, then try again.`,
    );
  }
}
