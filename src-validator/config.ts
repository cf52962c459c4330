/**
 * The validator's tunables in one place, with the reasons for their values. Tolerances are
 * justified at length in docs/PROTOCOL.md ("Agreement"); keep the two in step.
 */

/** A lease asks for about this much teacher time, so a slow GPU and a fast one both finish in time. */
export const TARGET_TASK_SECONDS = 30;
/** Bounds a task's document count: 64 × 1024 positions × 16 cells is the largest body MAX_RESULT_BODY_BYTES plans for. */
export const MAX_TASK_DOCUMENTS = 64;
/** Used to size work for a miner that has not measured its speed yet. */
export const DEFAULT_TOKENS_PER_S = 500;

export const DEFAULT_REDUNDANCY = 2;
/** Redundancy grows by one per unresolved disagreement, up to this many results per task. */
export const MAX_QUORUM = 5;
export const DEFAULT_LEASE_MS = 10 * 60_000;
export const DEFAULT_EPOCH_MS = 60 * 60_000;
/** 1 COMAI per epoch unless configured. */
export const DEFAULT_EPOCH_EMISSION_NANO = 1_000_000_000n;
export const NO_WORK_RETRY_MS = 15_000;

/**
 * Open leases any key may hold: the honest client leases its next task while it computes one
 * (prefetch), and that lease request often arrives before the upload of the task before them has
 * committed, so three. More only for a key whose delivered tokens of the last lease period cover
 * what it already holds, and never more than MAX_OPEN_LEASES: a fresh key claiming any speed locks
 * at most three tasks (3 × MAX_TASK_DOCUMENTS documents).
 */
export const BASE_OPEN_LEASES = 3;
export const MAX_OPEN_LEASES = 8;
/** A key at its open-lease limit asks again after this (it has work in hand). */
export const OPEN_LEASES_RETRY_MS = 5_000;
/** Expired leases a key may collect before it is refused work for a cool-down; each halves its next task. */
export const LEASE_STRIKES_TO_COOL_DOWN = 3;
/** Strikes stop growing here, so a key is never more than this many deliveries from full-size tasks. */
export const MAX_LEASE_STRIKES = 6;
export const DEFAULT_LEASE_COOL_DOWN_MS = 10 * 60_000;

/**
 * Signed requests per key and second: an honest miner makes about two per task (lease, result)
 * plus a few dashboard reads a minute, so 20 never touches it.
 */
export const DEFAULT_KEY_REQUESTS_PER_S = 20;
/** A rate limit's burst, in seconds of its rate (20/s lets 100 requests through at once). */
export const RATE_BURST_SECONDS = 5;

/** Agreement: ranks compared per position (top-8 carry > 95 % of the mass at most positions). */
export const AGREEMENT_TOP = 8;
/** Mean over positions of |top-8(A) ∩ top-k(B)| / 8, both directions. */
export const MIN_MEAN_OVERLAP = 0.9;
/** |Δ log-prob| in nats over ids both results rank in their top k (every rank; docs/PROTOCOL.md). */
export const MAX_MEAN_ABS_LOGPROB_DIFF = 0.05;
export const MAX_P99_ABS_LOGPROB_DIFF = 0.3;
/**
 * Rows (positions) per document that structural and agreement checks read, drawn at random after
 * the upload. Full decoding of every cell would cap a 2-core validator near 150k tokens/s.
 */
export const SAMPLED_ROWS_PER_DOCUMENT = 128;
/** A row whose top-8 overlap is below one half is "bad"; honest near-ties almost never are. */
export const BAD_ROW_OVERLAP = 0.5;
/**
 * At most this fraction of sampled rows may be bad, per document and over the task (rounded down:
 * one in 128 sampled rows). Two made-up strata, 1.6 % of a document, are always caught.
 */
export const MAX_BAD_ROW_FRACTION = 0.01;
/**
 * Two log-probs this close (nats) are a near tie: their ids may swap ranks, and an id one side
 * lists may sit just below the other's k-th. Honest fp16 jitter of σ 0.03 nats per logit moves a
 * gap between two ids by σ 0.06: this is over 3σ (docs/PROTOCOL.md).
 */
export const NEAR_TIE_LOGPROB_DIFF = 0.2;
/** Cells (all k ranks, both directions) whose id the other side lacks or ranks elsewhere beyond a near tie. */
export const MAX_RANK_MISS_FRACTION = 0.02;
/** |mean of log-prob(A) − log-prob(B)| over shared ids, in nats: a systematic bias |Δ| alone lets through. */
export const MAX_MEAN_SIGNED_LOGPROB_DIFF = 0.015;
/**
 * Share of one side's log-probs on a grid of 1/n nats (n ≤ 32) beyond what chance puts there: 0
 * for labels at the codec's 1/128-nat precision, 1 for labels rounded to 0.1 nats.
 */
export const MAX_COARSE_GRID_SHARE = 0.5;
/** Top-k mass may exceed 1 by fp16 rounding plus the codec's half step per cell. */
export const MASS_TOLERANCE = 0.02;

/** Adaptive replication (BOINC): a miner with fewer consecutive valid results is always checked. */
export const TRUST_STREAK = 10;
/** A trusted miner is still checked at least this often. */
export const MIN_CHECK_PROBABILITY = 0.05;
/** Documents re-computed per spot check through the Recomputer. */
export const RECOMPUTE_DOCUMENTS = 1;

export const PAYOUT_CHALLENGE_TTL_MS = 5 * 60_000;

/**
 * Audits (docs/PROTOCOL.md, "Audits"): the share of the network's credited tokens the validator's
 * own teacher re-computes, on tasks already settled. 1 % of a 1M tokens/s network is 10k tokens/s,
 * a fraction of one H100's Mistral-7B throughput.
 */
export const DEFAULT_AUDIT_SHARE = 0.01;
/**
 * An audit re-computes a prefix of at least this many positions (or the whole document): as many
 * rows as a comparison between two miners samples, so an audit is never a weaker check than one.
 */
export const MIN_AUDIT_PREFIX_POSITIONS = 128;
/**
 * Audits each key faces per settling window whatever its volume: a task's audit probability is at
 * least this over the key's tasks settled in the window so far, so a small key is caught as surely
 * as a large one (the floor costs at most this many audits per key and window).
 */
export const DEFAULT_AUDITS_PER_KEY = 3;
/**
 * A failed audit is gross, and penalised at once, when it fails even with the bounds honest
 * jitter moves (mean and p99 |Δ|, bias, top-8 overlap's shortfall) this many times wider, or on a
 * check honest jitter never trips (bad rows, rank misses, grid); otherwise it is a near miss, and
 * only a second audit of another document of the task that fails too confirms it (docs/PROTOCOL.md).
 */
export const GROSS_AUDIT_FAILURE_FACTOR = 2;
/** Audits waiting for the teacher; beyond it, picked audits are skipped (counted, logged) rather than queued. */
export const DEFAULT_AUDIT_QUEUE = 64;
/**
 * How long a teacher that failed an audit's re-computation rests before it is tried again: long
 * enough that a broken one costs one error line per pause, short enough that a passing fault (a
 * driver reset, a worker that crashed twice) does not leave colluders unaudited until a restart.
 */
export const AUDIT_TEACHER_PAUSE_MS = 10 * 60_000;
