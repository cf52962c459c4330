import { z } from 'zod';

/**
 * Wire protocol v1 between a miner (the app's validator client) and a validator. Miners pull over
 * HTTP(S); the validator never dials a miner. `docs/PROTOCOL.md` is the prose version of this
 * file; keep the two in step. Every miner endpoint is signed (see `request-signing.ts`); bodies are
 * JSON except the result upload, which is the binary soft-label bundle of `soft-labels.ts`.
 *
 * Additive changes (a new optional field, a new endpoint) keep `PROTOCOL_VERSION`; parsers on both
 * sides ignore unknown keys (zod's default), so an older client keeps working.
 */
export const PROTOCOL_VERSION = 1;

export const HEADER_KEY = 'x-nya-key';
export const HEADER_TIMESTAMP = 'x-nya-timestamp';
export const HEADER_NONCE = 'x-nya-nonce';
export const HEADER_SIGNATURE = 'x-nya-signature';

/** Content type of `POST /v1/tasks/{taskId}/result` bodies. */
export const SOFT_LABELS_CONTENT_TYPE = 'application/vnd.nya.soft-labels';

/** A signed request's timestamp may differ from the validator's clock by at most this much. */
export const SIGNATURE_WINDOW_MS = 120_000;

/** JSON request bodies are small; anything larger is refused before it is parsed. */
export const MAX_JSON_BODY_BYTES = 64 * 1024;
/**
 * Largest task: 64 documents × 1024 positions × 16 cells × 3.5 bytes = 3.67 MB, plus per-record
 * headers. 8 MiB leaves room for k up to 32 at the same size; larger bodies get 413.
 */
export const MAX_RESULT_BODY_BYTES = 8 * 1024 * 1024;

/** SS58 prefix of Commune (and generic Substrate) addresses. */
export const SS58_PREFIX = 42;

export const DEFAULT_K = 16;
export const DEFAULT_SEQ_LEN = 1024;

// ---------------------------------------------------------------------------------------------
// Paths

export const API = {
  lease: '/v1/lease',
  result: (taskId: string) => `/v1/tasks/${encodeURIComponent(taskId)}/result`,
  me: '/v1/me',
  ledger: '/v1/me/ledger',
  history: '/v1/me/history',
  leaderboard: '/v1/leaderboard',
  weights: '/v1/weights',
  health: '/v1/health',
  payoutChallenge: '/v1/payout/challenge',
  payoutLink: '/v1/payout/link',
  model: '/v1/model',
  /** A file of a teacher variant the validator serves itself (public, `Range` and `ETag`). */
  modelFile: (variantId: string, path: string) =>
    `/v1/model/files/${encodeURIComponent(variantId)}/${path.split('/').map(encodeURIComponent).join('/')}`,
} as const;

// ---------------------------------------------------------------------------------------------
// Errors: every 4xx/5xx answer is `{ error: { code, message } }`.

const PROTOCOL_ERROR_CODES = [
  /** The body is not JSON, or not the JSON the endpoint takes. 400 */
  'bad-request',
  /** The result bundle does not decode, or holds a different number of documents than the task. 400 */
  'bad-shape',
  /** Wrong content-type for the endpoint. 415 */
  'unsupported-media-type',
  /** Body larger than MAX_JSON_BODY_BYTES / MAX_RESULT_BODY_BYTES. 413 */
  'body-too-large',
  /** A signature header is missing or malformed. 401 */
  'unsigned',
  /** The signature does not verify for the key and message. 401 */
  'bad-signature',
  /** The timestamp is outside ±SIGNATURE_WINDOW_MS of the validator's clock. 401 */
  'stale-timestamp',
  /** The nonce was already used by this key within the window. 401 */
  'replayed',
  /** No such task, or this miner holds no lease on it. 404 */
  'unknown-task',
  /** The lease's deadline passed before the result arrived. 410 */
  'expired',
  /** A second, different result for a task this miner already submitted. 409 */
  'duplicate',
  /** The miner offered a model other than the one this validator expects. 409 */
  'wrong-model',
  /** Payout challenge unknown, expired or already used; or the payout signature is wrong. 400 */
  'bad-payout-proof',
  /** The payout address is on the validator's refused list (e.g. an exchange deposit address). 403 */
  'refused-address',
  /**
   * The validator leases only to registered miners (`nya validator --miners-from`) and this key is
   * not one: not on its allow-list, or not registered on its Commune subnet. 403
   */
  'not-registered',
  'not-found',
  'method-not-allowed',
  /** Too many requests from one key, or too many of its uploads at once. 429, with retry-after */
  'rate-limited',
  /** The body did not arrive within the validator's upload deadline. 408 */
  'too-slow',
  /** A model file's `Range` does not parse or starts past its end. 416, with `Content-Range: bytes *\/size` */
  'range-not-satisfiable',
  'internal',
  'unavailable',
] as const;
export const ProtocolErrorCode = z.enum(PROTOCOL_ERROR_CODES);
export type ProtocolErrorCode = z.infer<typeof ProtocolErrorCode>;

export const ErrorBody = z.object({
  error: z.object({ code: z.string(), message: z.string() }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

// ---------------------------------------------------------------------------------------------
// Shared pieces

/** Task ids are URL-safe: they appear in paths. */
export const TaskId = z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/);
/** A decimal string of nano-COMAI (9 decimals), never a float. */
export const NanoAmount = z.string().regex(/^\d{1,40}$/);
export const Ss58Address = z.string().min(40).max(60);
/** Lowercase hex SHA-256. */
export const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);
/** A variant's id, e.g. `mistral-7b-instruct-v0.3-int4`: safe in a path and a folder name. */
export const VariantId = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/);

// ---------------------------------------------------------------------------------------------
// POST /v1/lease (signed)

export const LeaseRequest = z.object({
  /** Hard cap on the task's token count (the miner's memory or batch limit). */
  maxTokens: z.number().int().positive().optional(),
  /** The miner's measured teacher speed; the validator sizes work to ~TARGET_TASK_SECONDS. */
  tokensPerS: z.number().positive().finite().optional(),
  /** e.g. "RTX 4090", "cpu"; shown on the leaderboard. */
  gpuClass: z.string().max(64).optional(),
  /** Client name and version, e.g. "nya-miner/0.1.0". */
  client: z.string().max(128),
  /** Display name on the leaderboard. */
  name: z.string().max(48).optional(),
  /** SHA-256 of the model the miner runs; a mismatch answers 409 `wrong-model` instead of work. */
  modelHash: Sha256Hex.optional(),
});
export type LeaseRequest = z.infer<typeof LeaseRequest>;

const TaskDocument = z.object({
  docId: z.string().min(1).max(1024),
  text: z.string(),
});
type TaskDocument = z.infer<typeof TaskDocument>;

export const Task = z.object({
  taskId: TaskId,
  k: z.number().int().min(1).max(64),
  /** Tokens per document including BOS; longer documents are truncated on the right. */
  seqLen: z.number().int().min(2).max(32768),
  /** The model whose labels the validator accepts (lowercase hex SHA-256). */
  modelHash: Sha256Hex,
  deadlineAtMs: z.number().int(),
  documents: z.array(TaskDocument).min(1),
  /** Sum of the documents' token counts (after truncation), as the validator counts them. */
  tokens: z.number().int().nonnegative().optional(),
});
export type Task = z.infer<typeof Task>;

export const LeaseResponse = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('task'), task: Task }),
  z.object({
    kind: z.literal('no-work'),
    retryAfterMs: z.number().int().nonnegative(),
    /** Why (additive): `queue-empty`, `open-leases` (this key holds its limit), `cool-down` (its leases expired). */
    reason: z.string().max(64).optional(),
  }),
]);
export type LeaseResponse = z.infer<typeof LeaseResponse>;

// ---------------------------------------------------------------------------------------------
// POST /v1/tasks/{taskId}/result (signed, body = encodeResultBundle(...))

const SUBMIT_STATUSES = ['accepted', 'validated', 'rejected'] as const;
const SubmitStatus = z.enum(SUBMIT_STATUSES);
type SubmitStatus = z.infer<typeof SubmitStatus>;

/**
 * `accepted`: stored, verification pending (waiting for a redundant result or a re-computation);
 * the outcome shows up in `/v1/me/ledger`. `validated`: credited to the open epoch.
 * `rejected`: `reason` says why; nothing is credited and the miner's streak is reset.
 * The client may drop its outbox copy on any of the three: each is a final acknowledgement.
 */
export const SubmitResponse = z.object({
  status: SubmitStatus,
  reason: z.string().optional(),
  creditedTokens: z.number().int().nonnegative().optional(),
});
export type SubmitResponse = z.infer<typeof SubmitResponse>;

// ---------------------------------------------------------------------------------------------
// GET /v1/me, /v1/me/ledger, /v1/me/history (signed)

export const MeResponse = z.object({
  address: z.string(),
  name: z.string(),
  /** All-time validated tokens of this miner. */
  validatedTokens: z.number().int().nonnegative(),
  /** Submitted, verification pending. */
  pendingTokens: z.number().int().nonnegative(),
  rejectedTokens: z.number().int().nonnegative(),
  /** Settled earnings plus the open epoch's projection (share so far × emission). */
  earnedNano: NanoAmount,
  /**
   * The part of `earnedNano` in settled epochs: final and in the published weights. The rest
   * (the open epoch and closed ones still settling) can still be revoked. Absent from older validators.
   */
  settledNano: NanoAmount.optional(),
  /**
   * The rest of `earnedNano`, split (absent from older validators): `settlingNano` is the credit of
   * closed epochs still settling (revocable until `settlesAtMs`), `projectedNano` the open epoch's
   * share so far × its emission, which moves until the epoch ends at `openEpoch.endMs`.
   */
  settlingNano: NanoAmount.optional(),
  projectedNano: NanoAmount.optional(),
  /** When the oldest closed epoch still settling becomes final; null when none is settling. */
  settlesAtMs: z.number().int().nullable().optional(),
  /** The open epoch: its bounds and emission, for the epoch's end time and a rate at the current share. */
  openEpoch: z
    .object({
      epoch: z.number().int(),
      startMs: z.number().int(),
      endMs: z.number().int(),
      emissionNano: NanoAmount,
    })
    .optional(),
  /** This miner's share of the open epoch's validated tokens, 0..1; null when nothing is validated yet. */
  epochShare: z.number().min(0).max(1).nullable(),
  /** Consecutive validated results; reset to 0 by any rejection. */
  streak: z.number().int().nonnegative(),
  payoutAddress: z.string().nullable().optional(),
});
export type MeResponse = z.infer<typeof MeResponse>;

const LEDGER_STATUSES = ['submitted', 'validated', 'rejected', 'credited'] as const;
const LedgerStatus = z.enum(LEDGER_STATUSES);
type LedgerStatus = z.infer<typeof LedgerStatus>;

/**
 * What a ledger row's `creditedNano` is: `projected` (its epoch is open: its share of the epoch
 * shrinks as more work is validated in it), `settling` (the epoch closed; final unless revoked
 * before `settlesAtMs`), `settled` (final), `none` (nothing credited).
 */
export const CREDIT_STATES = ['none', 'projected', 'settling', 'settled'] as const;

export const LedgerEntry = z.object({
  taskId: z.string(),
  submittedAtMs: z.number().int(),
  tokens: z.number().int().nonnegative(),
  status: LedgerStatus,
  reason: z.string().nullable(),
  creditedNano: NanoAmount,
  /** Absent from older validators. */
  credit: z.enum(CREDIT_STATES).optional(),
  /** When the row's epoch ends (projected) or settles (settling); null otherwise. Absent from older validators. */
  creditFinalAtMs: z.number().int().nullable().optional(),
});
export type LedgerEntry = z.infer<typeof LedgerEntry>;

export const LedgerResponse = z.object({
  entries: z.array(LedgerEntry),
  /** Pass as `before` for the next (older) page; null on the last page. */
  next: z.string().nullable(),
});
export type LedgerResponse = z.infer<typeof LedgerResponse>;

const HistoryPoint = z.object({
  hourStartMs: z.number().int(),
  validatedTokens: z.number().int().nonnegative(),
  earnedNano: NanoAmount,
});
type HistoryPoint = z.infer<typeof HistoryPoint>;
/** Oldest first, one entry per hour that had activity. */
export const HistoryResponse = z.array(HistoryPoint);
export type HistoryResponse = z.infer<typeof HistoryResponse>;

// ---------------------------------------------------------------------------------------------
// Public: leaderboard, weights, health

export const LeaderboardRow = z.object({
  rank: z.number().int().positive(),
  name: z.string(),
  address: z.string(),
  /** Validated tokens in the open epoch. */
  validatedTokens: z.number().int().nonnegative(),
  share: z.number().min(0).max(1),
  gpuClass: z.string().nullable(),
});
export type LeaderboardRow = z.infer<typeof LeaderboardRow>;

export const LeaderboardResponse = z.object({
  page: z.number().int().positive(),
  pageSize: z.number().int().positive(),
  total: z.number().int().nonnegative(),
  rows: z.array(LeaderboardRow),
  /**
   * Only when the request named an `address`: that miner's row, ranked within the same filter,
   * whichever page it is on (null when it has no validated tokens in the open epoch).
   */
  me: LeaderboardRow.nullable().optional(),
});
export type LeaderboardResponse = z.infer<typeof LeaderboardResponse>;

const WeightEntry = z.object({
  uid: z.number().int().nonnegative().nullable(),
  address: z.string(),
  /** u16, the shares scaled so the largest is 65535. */
  weight: z.number().int().min(0).max(65535),
});
export const WeightsResponse = z.object({
  /** The last closed epoch (null weights list before the first one closes). */
  epoch: z.number().int().nonnegative().nullable(),
  epochStartMs: z.number().int().optional(),
  epochEndMs: z.number().int().optional(),
  weights: z.array(WeightEntry),
});
export type WeightsResponse = z.infer<typeof WeightsResponse>;

export const HealthResponse = z.object({
  ok: z.literal(true),
  protocol: z.literal(PROTOCOL_VERSION),
  /** The default teacher variant's hash (what a lease naming no model gets); `variants` names them all. */
  modelHash: Sha256Hex,
  /** True when this validator accepts the tiny demo model (local mode only). */
  demo: z.boolean(),
  /** The ids of the teacher variants accepted, the default first (`GET /v1/model` has the rest). */
  variants: z.array(VariantId).max(16).optional(),
  /** The validator's clock, so a client can warn about skew before its signatures go stale. */
  nowMs: z.number().int().optional(),
});
export type HealthResponse = z.infer<typeof HealthResponse>;

// ---------------------------------------------------------------------------------------------
// GET /v1/model (public): the teacher variants this validator accepts, and where to get them.

/** A file's path inside its variant's folder: forward slashes, no empty, `.` or `..` segment. */
export const ModelFilePath = z
  .string()
  .max(256)
  .regex(/^(?!.*(?:^|\/)\.{1,2}(?:\/|$))[A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+)*$/);

export const ModelVariantInfo = z.object({
  id: VariantId,
  label: z.string().max(200),
  /** What a miner running it sends as `modelHash` (lowercase hex SHA-256, as `modelHash()` computes it). */
  modelHash: Sha256Hex,
  /** GPU memory it needs for a 1024-token batch; 0 for a model that runs anywhere. */
  minVramMiB: z.number().int().nonnegative(),
  files: z
    .array(z.object({ path: ModelFilePath, bytes: z.number().int().nonnegative(), sha256: Sha256Hex }))
    .min(1)
    .max(64),
  /**
   * Base URLs tried in order; a file's URL is the base followed by its path. A base that is not
   * absolute is resolved against the validator's URL (the validator's own copy, `/v1/model/files/<id>/`).
   */
  sources: z.array(z.string().min(1).max(2048)).min(1).max(8),
});
export type ModelVariantInfo = z.infer<typeof ModelVariantInfo>;

export const ModelResponse = z.object({ variants: z.array(ModelVariantInfo).max(16) });
export type ModelResponse = z.infer<typeof ModelResponse>;

// ---------------------------------------------------------------------------------------------
// Payout address link (signed): the payout key signs the challenge's `message`.

export const PayoutChallengeResponse = z.object({
  challengeId: z.string(),
  message: z.string(),
  expiresAtMs: z.number().int(),
});
export type PayoutChallengeResponse = z.infer<typeof PayoutChallengeResponse>;

export const PayoutLinkRequest = z.object({
  payoutAddress: Ss58Address,
  challengeId: z.string().min(1).max(128),
  /** 0x-hex sr25519 signature by the payout key over the UTF-8 bytes of `message`. */
  signature: z.string().regex(/^0x[0-9a-fA-F]+$/),
});
export type PayoutLinkRequest = z.infer<typeof PayoutLinkRequest>;

export const PayoutLinkResponse = z.object({ linked: z.literal(true) });
export type PayoutLinkResponse = z.infer<typeof PayoutLinkResponse>;

/** The exact text the payout key signs; both sides build it with this function. */
export function payoutChallengeMessage(miningAddress: string, challengeId: string, expiresAtMs: number): string {
  return `nya-payout-link-v1\nmining:${miningAddress}\nchallenge:${challengeId}\nexpires:${expiresAtMs}`;
}
