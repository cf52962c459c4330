/**
 * Channel names, free of zod so the sandboxed preload stays tiny. No channel string is written
 * anywhere else: `ipc.ts` keys its schemas by these, and the preload and the WebSocket bridge
 * check names against these lists.
 */
export const INVOKE_CHANNELS = [
  'state:get',
  'miner:set-paused',
  'settings:update',
  'logs:get',
  'history:get',
  'validator:leaderboard',
  'validator:ledger',
  'model:catalog',
  'model:download',
  'model:cancel',
  'network:list',
  'wallet:status',
  'wallet:create',
  'wallet:import',
  'wallet:export',
  'wallet:remove',
  'wallet:start-payout-link',
  'wallet:submit-payout-signature',
  'wallet:refresh-balance',
  'diagnostics:export',
] as const;

export type InvokeChannel = (typeof INVOKE_CHANNELS)[number];

/** The one push channel: main -> renderer, carrying a full `StateSnapshot`. */
export const STATE_CHANNEL = 'state' as const;

export function isInvokeChannel(name: unknown): name is InvokeChannel {
  return typeof name === 'string' && (INVOKE_CHANNELS as readonly string[]).includes(name);
}
