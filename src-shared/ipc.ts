import { z } from 'zod';
import type { InvokeChannel } from './channels';
import { LeaderboardResponse, LeaderboardRow, LedgerResponse, VariantId } from './protocol';
import { WALLET_CHANNELS } from './wallet-contract';
import { NetworkList } from './network';
import { LogLevel, LogLine, ModelDownload, Settings, StateSnapshot } from './state';
import type { Result } from './result';

/** Chart windows: 1 s points for 10 minutes, 1 min points for a day, 1 h points for a month. */
export const HistoryRange = z.enum(['10m', '24h', '30d']);
export type HistoryRange = z.infer<typeof HistoryRange>;

/**
 * The charted figures, in the order history files store them (so the list is also the file
 * format). Money is in nano-COMAI here as everywhere on the wire; views scale it for display.
 */
export const HISTORY_METRICS = ['gpuLoadPct', 'tempC', 'powerW', 'tokensPerS', 'earnedNano', 'validatedTokens'] as const;
export type HistoryMetric = (typeof HISTORY_METRICS)[number];

/** Column-wise series: `tMs[i]` is the bucket start of `series[m][i]`; null where nothing was measured. */
export const HistorySeries = z.object({
  range: HistoryRange,
  tMs: z.array(z.number()),
  series: z.record(z.enum(HISTORY_METRICS), z.array(z.number().nullable())),
});
export type HistorySeries = z.infer<typeof HistorySeries>;

/** The teacher variants this app knows, what fits this GPU, and whether each can be downloaded. */
export const ModelCatalog = z.object({
  variants: z.array(
    z.object({
      id: z.string(),
      label: z.string(),
      isDemo: z.boolean(),
      diskBytes: z.number(),
      minVramMiB: z.number(),
      /** False until a model manifest gives its files (URLs and checksums). */
      downloadable: z.boolean(),
    }),
  ),
  recommended: z.object({ variantId: z.string(), fitsGpu: z.boolean(), reason: z.string() }),
  /** Why no variant can be downloaded (no manifest configured, manifest unreachable), or null. */
  manifestError: z.string().nullable(),
});
export type ModelCatalog = z.infer<typeof ModelCatalog>;

/**
 * The contract between main and every view. Each invoke channel takes one object argument,
 * validated in main by its `request` schema, and answers one `Result` of its `response` type.
 * Requests are strict: an unknown key is a malformed payload, not something to ignore.
 */
export const IPC = {
  'state:get': {
    request: z.strictObject({}),
    response: StateSnapshot,
  },
  'miner:set-paused': {
    request: z.strictObject({
      paused: z.boolean(),
      /** Pause for this long, then resume by itself (tray: "Pause for 1 hour"). */
      forMs: z
        .number()
        .int()
        .positive()
        .max(7 * 24 * 3600 * 1000)
        .optional(),
    }),
    response: StateSnapshot.shape.miner,
  },
  'settings:update': {
    request: z.strictObject({ patch: Settings.partial().strict() }),
    response: Settings,
  },
  'logs:get': {
    request: z.strictObject({
      minLevel: LogLevel.optional(),
      search: z.string().max(200).optional(),
      limit: z.number().int().min(1).max(5000).optional(),
    }),
    response: z.array(LogLine),
  },
  'history:get': {
    request: z.strictObject({ range: HistoryRange }),
    response: HistorySeries,
  },
  'validator:leaderboard': {
    request: z.strictObject({
      page: z.number().int().min(1).max(100_000),
      pageSize: z.number().int().min(1).max(200),
      gpuClass: z.string().min(1).max(64).optional(),
    }),
    /** The page, plus the user's own row wherever it ranks (pinned by the view). */
    response: z.object({ board: LeaderboardResponse.omit({ me: true }), me: LeaderboardRow.nullable() }),
  },
  'validator:ledger': {
    /** `limit`: rows per page (the validator's default, 50, when absent). */
    request: z.strictObject({ before: z.string().max(128).optional(), limit: z.number().int().min(1).max(200).optional() }),
    response: LedgerResponse,
  },
  'model:catalog': {
    request: z.strictObject({}),
    response: ModelCatalog,
  },
  /** Starts a download; progress arrives in the snapshot's `modelDownload`. */
  'model:download': {
    request: z.strictObject({ variantId: VariantId }),
    response: ModelDownload,
  },
  'model:cancel': {
    request: z.strictObject({}),
    response: ModelDownload,
  },
  /** The networks the first-run guide and Settings offer. */
  'network:list': {
    request: z.strictObject({}),
    response: NetworkList,
  },
  // Key management, payout link and balance: nothing secret in any request or response.
  ...WALLET_CHANNELS,
  /** Writes a bug report (versions, GPU, provider, settings, recent logs; no secrets) into the data folder. */
  'diagnostics:export': {
    request: z.strictObject({}),
    response: z.object({ path: z.string() }),
  },
} as const satisfies Record<InvokeChannel, { request: z.ZodType; response: z.ZodType }>;

export type IpcRequest<C extends InvokeChannel> = z.input<(typeof IPC)[C]['request']>;
export type IpcParsedRequest<C extends InvokeChannel> = z.output<(typeof IPC)[C]['request']>;
export type IpcResponse<C extends InvokeChannel> = z.output<(typeof IPC)[C]['response']>;

/** One call to main: a plain function, so a view may hand it to a component on its own. */
export type NyaInvoke = <C extends InvokeChannel>(channel: C, request: IpcRequest<C>) => Promise<Result<IpcResponse<C>>>;

/**
 * What a view calls: the preload's `window.nya` and the WebSocket bridge both implement it. Both
 * members are function-typed properties, not methods: an implementation must not depend on `this`
 * (the wallet page hands `invoke` to its panels detached from the bridge).
 */
export interface NyaBridge {
  readonly invoke: NyaInvoke;
  /** Subscribe to state pushes; returns the unsubscribe function. */
  readonly onState: (listener: (snapshot: StateSnapshot) => void) => () => void;
}

/** Headless transport: the same contract framed for a WebSocket. */
export const WS_MAX_MESSAGE_BYTES = 64 * 1024;

export const WsClientMessage = z.strictObject({
  type: z.literal('invoke'),
  id: z.number().int().nonnegative(),
  channel: z.string().max(64),
  payload: z.unknown(),
});
export type WsClientMessage = z.infer<typeof WsClientMessage>;

export type WsServerMessage =
  | { type: 'result'; id: number; result: Result<unknown> }
  | { type: 'state'; snapshot: StateSnapshot }
  /** A frame that could not be read at all (not JSON, no id): answered, then ignored. */
  | { type: 'error'; error: { code: 'bad-request'; message: string } };
