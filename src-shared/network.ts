import { z } from 'zod';

/**
 * A network the miner can join: which validator hands out work and the teacher, and which Commune
 * chain pays. The app ships `assets/networks.json`; an operator adds or replaces networks with a
 * `networks.json` in the data folder (same format, merged by name over the bundled one).
 */
export const NetworkName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'lowercase letters, digits and "-", at most 32');

export const Network = z.strictObject({
  name: NetworkName,
  label: z.string().min(1).max(120),
  /** Validator base URLs; the miner mines for the first. Empty: the embedded local validator. */
  validators: z.array(z.string().url()).max(8),
  /** Commune RPC (WebSocket) for balances; null: the default public endpoint. */
  communeRpc: z.string().url().nullable(),
  /** Where a user looks up their address; null: none. */
  explorer: z.string().url().nullable(),
});
export type Network = z.infer<typeof Network>;

export const NetworkFile = z.strictObject({
  version: z.literal(1),
  networks: z.array(Network).max(64),
});

/** The networks this build knows (bundled, merged with the data folder's file) and the build's default. */
export const NetworkList = z.object({
  networks: z.array(Network),
  defaultNetwork: NetworkName,
  /** Why the data folder's networks.json was not used (malformed), or null. */
  problem: z.string().nullable(),
});
export type NetworkList = z.infer<typeof NetworkList>;
