import { z } from 'zod';
import { NetworkName } from './network';

/**
 * The one picture of the miner that main owns and pushes to every view (Electron window, browser
 * dashboard, `GET /api/state`). JSON-safe by construction: amounts are decimal strings with the
 * unit in the name, times are `...AtMs`, rates are `...PerS`.
 */

export const MINER_STATUSES = ['starting', 'mining', 'paused', 'waiting-for-idle', 'no-work', 'offline', 'error'] as const;
export const MinerStatus = z.enum(MINER_STATUSES);
export type MinerStatus = z.infer<typeof MinerStatus>;

export const ExecutionProviderChoice = z.enum(['auto', 'cpu', 'cuda', 'dml']);
export type ExecutionProviderChoice = z.infer<typeof ExecutionProviderChoice>;

export const LogLevel = z.enum(['debug', 'info', 'warn', 'error']);
export type LogLevel = z.infer<typeof LogLevel>;

export const LogLine = z.object({
  seq: z.number().int(),
  atMs: z.number(),
  level: LogLevel,
  source: z.string(),
  message: z.string(),
});
export type LogLine = z.infer<typeof LogLine>;

/**
 * The user's GPU limits, one range each: the settings file, the governor that aims below them and
 * the mining policy's hard stop all accept exactly these.
 */
export const GPU_TEMP_LIMIT_C = { min: 40, max: 100 } as const;
export const GPU_POWER_LIMIT_W = { min: 20, max: 1000 } as const;

/**
 * What the user may change. The validator comes from the chosen network (`assets/networks.json`);
 * `validatorUrl` overrides it. No validator at all means the embedded local validator.
 */
export const Settings = z.object({
  /** A network's name; null: the network this build chose as its default. */
  network: NetworkName.nullable(),
  /** Overrides the network's validator; null: the network's own. */
  validatorUrl: z.string().url().nullable(),
  executionProvider: ExecutionProviderChoice,
  gpuDeviceId: z.number().int().min(0).max(15),
  /** Upper bound on tokens in one forward batch; the teacher packs documents up to it. */
  maxBatchTokens: z.number().int().min(64).max(65536),
  /** The model folder; `null` means the bundled demo model. */
  modelDir: z.string().nullable(),
  /** The governor keeps the GPU under these by resting between tasks and leasing smaller ones; null: no limit. */
  maxGpuTempC: z.number().int().min(GPU_TEMP_LIMIT_C.min).max(GPU_TEMP_LIMIT_C.max).nullable(),
  maxGpuPowerW: z.number().int().min(GPU_POWER_LIMIT_W.min).max(GPU_POWER_LIMIT_W.max).nullable(),
  /** Where the model catalog (download URLs and checksums) comes from; null: none configured. */
  modelManifestUrl: z.string().url().nullable(),
  /** Commune chain RPC (WebSocket) for the wallet balance; null: the public endpoint. */
  communeRpcUrl: z.string().url().nullable(),
  /** Opt-in: send the dashboard's figures to Weights & Biases (key from NYA_WANDB_API_KEY, kept in main). */
  wandbEnabled: z.boolean(),
  wandbProject: z.string().min(1).max(128).nullable(),
  /** The first-run guide was finished or skipped. */
  onboardingDone: z.boolean(),
});
export type Settings = z.infer<typeof Settings>;

export const DEFAULT_SETTINGS: Settings = {
  network: null,
  validatorUrl: null,
  executionProvider: 'auto',
  gpuDeviceId: 0,
  maxBatchTokens: 4096,
  modelDir: null,
  maxGpuTempC: null,
  maxGpuPowerW: null,
  modelManifestUrl: null,
  communeRpcUrl: null,
  wandbEnabled: false,
  wandbProject: null,
  onboardingDone: false,
};

const TaskProgress = z.object({
  taskId: z.string(),
  documents: z.number().int(),
  tokensDone: z.number().int(),
  tokensTotal: z.number().int(),
  startedAtMs: z.number(),
  /** Estimated finish, from the current rate; null until a rate is known. */
  etaAtMs: z.number().nullable(),
});
type TaskProgress = z.infer<typeof TaskProgress>;

const TeacherState = z.object({
  state: z.enum(['not-loaded', 'loading', 'ready', 'error']),
  modelName: z.string().nullable(),
  modelHash: z.string().nullable(),
  /** The bundled tiny model: its labels are never real teacher output. */
  isDemo: z.boolean(),
  executionProvider: z.string().nullable(),
  /** Why this provider runs (e.g. "CUDA unavailable: no NVIDIA driver; using CPU"). */
  providerReason: z.string().nullable(),
  error: z.string().nullable(),
});
type TeacherState = z.infer<typeof TeacherState>;

const ValidatorState = z.object({
  mode: z.enum(['embedded', 'remote']),
  url: z.string().nullable(),
  connection: z.enum(['connecting', 'online', 'offline']),
  lastError: z.string().nullable(),
  /** When the client tries again after a failure. */
  retryAtMs: z.number().nullable(),
  /** Results on disk not yet acknowledged by the validator. */
  outboxPending: z.number().int(),
  /**
   * The address the validator knows this miner by: the wallet's mining key for a remote
   * validator, the local identity (which earns nothing) for the embedded one; null until connected.
   */
  signingAddress: z.string().nullable(),
});
type ValidatorState = z.infer<typeof ValidatorState>;

export const TokenTotals = z.object({
  /** Labelled by this miner and handed to the validator (queued durably, then sent). */
  computed: z.number().int(),
  /** Submitted, not yet validated or rejected. */
  pending: z.number().int(),
  validated: z.number().int(),
  rejected: z.number().int(),
  today: z.number().int(),
  tasksCompleted: z.number().int(),
});
export type TokenTotals = z.infer<typeof TokenTotals>;

export const GpuTelemetry = z.object({
  index: z.number().int(),
  name: z.string(),
  driver: z.string().nullable(),
  utilizationPct: z.number().nullable(),
  memoryUsedMiB: z.number().nullable(),
  memoryTotalMiB: z.number().nullable(),
  tempC: z.number().nullable(),
  powerW: z.number().nullable(),
  powerLimitW: z.number().nullable(),
  fanPct: z.number().nullable(),
  smClockMHz: z.number().nullable(),
  memClockMHz: z.number().nullable(),
});
export type GpuTelemetry = z.infer<typeof GpuTelemetry>;

export const GpuState = z.object({
  /** 'none' is a real answer: no GPU was found, the teacher runs on the CPU. */
  status: z.enum(['unknown', 'ok', 'none', 'error']),
  source: z.string().nullable(),
  gpus: z.array(GpuTelemetry),
});
export type GpuState = z.infer<typeof GpuState>;

/** Amounts travel as nano-COMAI (9 decimals); this converts only for display and Prometheus. */
export const NANO_PER_COMAI = 1e9;

/**
 * What the validator's figures mean, defined once (src-main/miner/earnings.ts computes them from
 * `GET /v1/me`; every view shows these and computes none). nano-COMAI decimal strings.
 */
export const Earnings = z.object({
  unit: z.literal('COMAI'),
  /** credited + settling + projected: everything the validator reports for this miner. */
  earnedNano: z.string(),
  /** Epochs that settled: final, in the published weights. */
  creditedNano: z.string(),
  /** Closed epochs still settling: final at `settlesAtMs` unless a failed check revokes them. */
  settlingNano: z.string(),
  settlesAtMs: z.number().nullable(),
  /** The open epoch so far (share × emission): it moves until `epochEndsAtMs`, as others' work is validated. */
  projectedNano: z.string(),
  epochEndsAtMs: z.number().nullable(),
  /** This miner's share of the open epoch's validated tokens, 0..1; null when unknown. */
  epochShare: z.number().nullable(),
  /** What an hour and a day bring at the current share of the open epoch; null when unknown. */
  perHourNano: z.string().nullable(),
  perDayNano: z.string().nullable(),
});
export type Earnings = z.infer<typeof Earnings>;

const WalletSummary = z.object({
  miningAddress: z.string().nullable(),
  payoutAddress: z.string().nullable(),
  payoutLinked: z.boolean(),
});
type WalletSummary = z.infer<typeof WalletSummary>;

/** A teacher model download, for the progress bar. */
export const ModelDownload = z.object({
  status: z.enum(['idle', 'downloading', 'done', 'error']),
  variantId: z.string().nullable(),
  file: z.string().nullable(),
  bytesDone: z.number(),
  bytesTotal: z.number(),
  /** All files of the variant together: what is here and what the variant needs. */
  variantBytesDone: z.number(),
  variantBytesTotal: z.number(),
  /** All files of the variant, 0..1. */
  overall: z.number(),
  dir: z.string().nullable(),
  error: z.string().nullable(),
  errorCode: z.string().nullable(),
});
export type ModelDownload = z.infer<typeof ModelDownload>;

/** CPU and memory of one process, as that process measured itself. */
const ProcessUsage = z.object({
  rssBytes: z.number(),
  /** Its peak resident memory since it started. */
  maxRssBytes: z.number(),
  /** Its share of all `cores` over the last few seconds, 0..100; null until two readings exist. */
  cpuPct: z.number().nullable(),
});
export type ProcessUsage = z.infer<typeof ProcessUsage>;

/** What mining costs this machine in CPU and memory: what a CPU miner watches instead of a GPU card. */
const Resources = z.object({
  cores: z.number().int(),
  /** The app's own process (main, or `nya mine`). */
  app: ProcessUsage.nullable(),
  /** The miner's teacher worker while it runs; null while stopped (paused, loading failed). */
  teacher: ProcessUsage.nullable(),
  /** The embedded validator's re-compute teacher (local mode) while it runs. */
  recomputeTeacher: ProcessUsage.nullable(),
});

export const StateSnapshot = z.object({
  schemaVersion: z.literal(1),
  /** Increases with every change; a view ignores a push older than what it shows. */
  seq: z.number().int(),
  atMs: z.number(),
  miner: z.object({
    status: MinerStatus,
    /** The reason in words, shown beside the status. */
    reason: z.string(),
    userPaused: z.boolean(),
    pausedUntilMs: z.number().nullable(),
  }),
  task: TaskProgress.nullable(),
  tokensPerS: z.number(),
  tokens: TokenTotals,
  teacher: TeacherState,
  modelDownload: ModelDownload,
  validator: ValidatorState,
  gpu: GpuState,
  resources: Resources,
  earnings: Earnings,
  wallet: WalletSummary,
  settings: Settings,
  /** Where this miner keeps settings, results, keys and models (chosen at start: --data-dir or the app's folder). */
  dataDir: z.string(),
  logs: z.array(LogLine),
});
export type StateSnapshot = z.infer<typeof StateSnapshot>;
