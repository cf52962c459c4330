/**
 * The validator's storage port. One interface, two drivers (SQLite for one process, PostgreSQL
 * when several validator processes share a database); the SQL is written once, by aggregate, in `sql/`.
 * Everything that must be atomic runs inside `transaction()`, where `*ForUpdate` reads take row
 * locks on PostgreSQL (SQLite serialises whole transactions instead).
 */

export type StoreKind = 'sqlite' | 'postgres';

export interface NewDocument {
  docId: string;
  url: string | null;
  text: string;
  /** An estimate used for sizing before the validator tokenizes (FineWeb's GPT-2 count). */
  tokenCount?: number | null;
}

export interface QueuedDocument {
  docId: string;
  text: string;
}

export interface DocumentTokenization {
  docId: string;
  /** Positions the teacher labels: min(token count incl. BOS, seqLen). */
  tokens: number;
  tokenIdsChecksum: number;
}

export interface ReadyDocument {
  seq: number;
  docId: string;
  tokens: number;
  tokenIdsChecksum: number;
}

/**
 * `requeued`: its kept copy was revoked while other keys' validated results stayed; its documents
 * went back to the queue as a new task, so it is never reopened or audited again.
 */
export type TaskState = 'open' | 'checking' | 'validated' | 'failed' | 'requeued';

export interface TaskRow {
  taskId: string;
  createdAtMs: number;
  k: number;
  seqLen: number;
  modelHash: string;
  tokens: number;
  /** Agreeing results this task needs before it is settled. */
  quorum: number;
  state: TaskState;
}

export interface TaskDocRow {
  docId: string;
  text: string;
  tokens: number;
  tokenIdsChecksum: number;
}

export type LeaseState = 'active' | 'ok' | 'rejected' | 'expired';

export interface LeaseRow {
  taskId: string;
  miner: string;
  leasedAtMs: number;
  deadlineAtMs: number;
  state: LeaseState;
}

/** A key's record as a leaseholder (expired leases count against it), kept across restarts. */
export interface LeaseStanding {
  strikes: number;
  /** No lease for this key before then (0: none). */
  coolDownUntilMs: number;
}

/** The leases a key holds now, and their tasks' tokens. */
export interface OpenLeases {
  count: number;
  tokens: number;
}

export type ResultStatus = 'pending' | 'validated' | 'rejected';

export interface ResultRow {
  taskId: string;
  miner: string;
  submittedAtMs: number;
  bodySha256: string;
  tokens: number;
  status: ResultStatus;
  reason: string | null;
  /** Open-epoch index the tokens were credited to; null until validated. */
  epoch: number | null;
  /** True when nobody but this miner vouches for the result (quorum 1, no check): revocable. */
  unverified: boolean;
  /** The JSON answer given to the first submission, repeated for identical re-submissions. */
  responseJson: string;
  /** False once the body was dropped (a redundant copy of a validated result, or a rejected one). */
  bodyKept: boolean;
}

export interface MinerRow {
  address: string;
  name: string;
  gpuClass: string | null;
  streak: number;
  validatedTokens: number;
  rejectedTokens: number;
  payoutAddress: string | null;
  createdAtMs: number;
}

/** A key holding one of a task's replicas, as replica eligibility sees it. */
export interface ReplicaHolder {
  miner: string;
  /** When the validator first saw the key (its miners row was created). */
  firstSeenMs: number;
  remoteAddress: string | null;
  established: boolean;
}

export interface ReplicaCandidate {
  task: TaskRow;
  holders: ReplicaHolder[];
}

export interface CreditRow {
  miner: string;
  epoch: number;
  hourStartMs: number;
  tokens: number;
}

export interface MinerEpochTokens {
  miner: string;
  epoch: number;
  tokens: number;
}

export interface LedgerRow {
  taskId: string;
  submittedAtMs: number;
  tokens: number;
  status: ResultStatus;
  reason: string | null;
  epoch: number | null;
}

export interface LeaderboardEntry {
  address: string;
  name: string;
  gpuClass: string | null;
  tokens: number;
}

export interface ChallengeRow {
  challengeId: string;
  miner: string;
  expiresAtMs: number;
  used: boolean;
}

/** Primitives usable inside a transaction. */
export interface StoreTx {
  // documents and tasks
  readyDocumentsForUpdate(seqLen: number, limit: number): Promise<ReadyDocument[]>;
  markDocumentsAssigned(docIds: string[]): Promise<void>;
  requeueDocuments(docIds: string[]): Promise<void>;
  /** `variant`: the id of the teacher variant `task.modelHash` names (what the data set's rows say). */
  insertTask(task: TaskRow, variant: string, docs: { docId: string; tokens: number; tokenIdsChecksum: number }[]): Promise<void>;
  /** Open tasks this miner never held that still need a replica, oldest first, with their replicas' keys; not locked. */
  replicaCandidates(miner: string, modelHash: string, maxTokens: number, limit: number): Promise<ReplicaCandidate[]>;
  /** The task, locked, if it still needs a replica; null when taken or locked by another transaction. */
  openReplicaSlotForUpdate(taskId: string): Promise<TaskRow | null>;
  taskForUpdate(taskId: string): Promise<TaskRow | null>;
  taskDocuments(taskId: string): Promise<TaskDocRow[]>;
  /**
   * The task's documents as a lease answer carries them, each `{"docId":…,"text":…}` as UTF-8
   * JSON encoded by the database: escaping and encoding 0.4 MiB of texts in JavaScript took 2-4 ms
   * of the event loop per lease, the database's own JSON functions a third of that.
   */
  taskDocumentsJson(taskId: string): Promise<Buffer[]>;
  /** taskDocuments without the texts: what checking a result needs. */
  taskDocumentChecks(taskId: string): Promise<Omit<TaskDocRow, 'text'>[]>;
  setTaskState(taskId: string, state: TaskState, quorum?: number): Promise<void>;
  // leases
  /** Marks leases past their deadline expired; returns each one's miner (once per lease). */
  expireLeases(nowMs: number): Promise<string[]>;
  insertLease(lease: LeaseRow): Promise<void>;
  leaseForUpdate(taskId: string, miner: string): Promise<LeaseRow | null>;
  setLeaseState(taskId: string, miner: string, state: LeaseState): Promise<void>;
  // a key as a leaseholder
  leaseStandingForUpdate(miner: string): Promise<LeaseStanding>;
  setLeaseStanding(miner: string, standing: LeaseStanding): Promise<void>;
  /** One strike fewer (a delivered result), never below zero. */
  forgiveLeaseStrike(miner: string): Promise<void>;
  openLeases(miner: string): Promise<OpenLeases>;
  /** Tokens of the miner's results submitted since then and not rejected: its speed as measured here. */
  deliveredTokensSince(miner: string, sinceMs: number): Promise<number>;
  // results
  result(taskId: string, miner: string): Promise<ResultRow | null>;
  /**
   * Stores a result with its body. `stagedAt`: the body is already written to that file (a path
   * from `stagingPath`), which the row takes over; the file is removed if the transaction rolls back.
   */
  insertResult(row: ResultRow, body: Uint8Array, stagedAt?: string | null): Promise<void>;
  setResultResponse(taskId: string, miner: string, responseJson: string): Promise<void>;
  resultsOfTask(taskId: string): Promise<ResultRow[]>;
  resultBody(taskId: string, miner: string): Promise<Uint8Array | null>;
  /** Where a result's body is: its file (so a check worker reads it itself) or its bytes. */
  resultBodySource(taskId: string, miner: string): Promise<BodySource | null>;
  /** Frees a body no one needs any more (files are removed after the transaction commits). */
  dropResultBody(taskId: string, miner: string): Promise<void>;
  setResultOutcome(
    taskId: string,
    miner: string,
    outcome: { status: ResultStatus; reason: string | null; epoch: number | null; unverified: boolean },
  ): Promise<void>;
  /** Validated results of a miner in epochs >= fromEpoch, all or only the unverified ones (what a failed check revokes). */
  validatedResultsSince(miner: string, fromEpoch: number, onlyUnverified: boolean): Promise<ResultRow[]>;
  /**
   * Kept bodies no check can still need (validated results of closed tasks, verified or in a
   * settled epoch), newest first; `submittedBeforeMs` keeps only older ones.
   */
  prunableResultBodies(q: { settledEpoch: number; submittedBeforeMs: number | null; limit: number }): Promise<KeptBody[]>;
  /** Frees one of those bodies if it is still prunable; false when it is not (or is gone). */
  pruneResultBody(taskId: string, miner: string, settledEpoch: number): Promise<boolean>;
  /**
   * Deletes the rows of up to `limit` closed tasks, oldest first, that nothing can need again: no
   * kept body, no pending result, every validated result in a settled epoch. Their documents stay.
   * Returns how many were deleted. The miners' totals and credit are kept apart and stay whole.
   */
  forgetSettledTasks(q: { settledEpoch: number; limit: number }): Promise<number>;
  // miners and credit
  upsertMiner(address: string, seen: { name?: string; gpuClass?: string; nowMs: number }): Promise<MinerRow>;
  minerForUpdate(address: string): Promise<MinerRow | null>;
  /** Records the remote address a key leases from (`establish`: a seed key); returns whether it is established. */
  recordOrigin(miner: string, remoteAddress: string | null, establish: boolean): Promise<boolean>;
  /** A key becomes established (an agreement with an established key, a re-computation) or stops being one (caught). */
  setEstablished(miner: string, established: boolean): Promise<void>;
  establishedAmong(miners: string[]): Promise<Set<string>>;
  updateMinerCounters(address: string, delta: { streak: number | 'reset'; validatedTokens: number; rejectedTokens: number }): Promise<void>;
  addCredit(credit: CreditRow): Promise<void>;
  // replay protection
  /** False when (address, nonce) was already used and has not expired. */
  claimNonce(address: string, nonce: string, expiresAtMs: number, nowMs: number): Promise<boolean>;
  pruneNonces(nowMs: number): Promise<number>;
  // payout
  insertChallenge(row: ChallengeRow): Promise<void>;
  challengeForUpdate(challengeId: string): Promise<ChallengeRow | null>;
  markChallengeUsed(challengeId: string): Promise<void>;
  setPayoutAddress(miner: string, payoutAddress: string): Promise<void>;
  // epochs
  /** Claims the right to publish an epoch's weights; false when another process already did. */
  claimEpochPublication(epoch: number, nowMs: number): Promise<boolean>;
}

/** A validated result as the data-set export reads it. */
export interface ValidatedResult {
  taskId: string;
  modelHash: string;
  /** The teacher variant's id; null for a task made before validators recorded it (schema 7). */
  variant: string | null;
  k: number;
  body: Uint8Array;
}

/** A kept result body and its size, for retention. */
export interface KeptBody {
  taskId: string;
  miner: string;
  submittedAtMs: number;
  bytes: number;
}

/** A result body: its bytes, or the file the store keeps it in. */
export type BodySource = { bytes: Uint8Array } | { path: string };

export interface Store extends StoreTx {
  readonly kind: StoreKind;
  /**
   * A new file to write a result's body into before its transaction (see `insertResult`), or null
   * when this store keeps bodies in the database. `discardStaged` removes one that was not stored.
   */
  stagingPath(taskId: string, miner: string): string | null;
  discardStaged(path: string): void;
  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;
  /** Inserts documents into the queue; ids already present are skipped. Returns how many were new. */
  addDocuments(docs: NewDocument[]): Promise<number>;
  /** Queued documents not yet tokenized for this sequence length. */
  untokenizedDocuments(seqLen: number, limit: number): Promise<QueuedDocument[]>;
  setTokenizations(seqLen: number, rows: DocumentTokenization[]): Promise<void>;
  queueDepth(): Promise<{ queued: number; openTasks: number }>;
  /** Tasks waiting for the validator's re-computation, oldest first. */
  checkingTaskIds(): Promise<string[]>;
  /**
   * Queues these documents again where no open or checking task holds them (local mode's next
   * round of the sample: the same rows labelled again, so the database does not grow by a copy
   * of the sample each round). Returns how many were queued.
   */
  requeueSettledDocuments(docIds: string[]): Promise<number>;
  miner(address: string): Promise<MinerRow | null>;
  /** All miners' validated tokens, all time (benchmarks, health). */
  totalValidatedTokens(): Promise<number>;
  pendingTokens(miner: string): Promise<number>;
  /** Validated tokens per miner per epoch for the given epochs (all miners when miner is null). */
  epochTokens(epochs: number[], miner: string | null): Promise<MinerEpochTokens[]>;
  epochTotals(epochs: number[]): Promise<Map<number, number>>;
  /** Epochs in which the miner has credit. */
  minerEpochs(miner: string): Promise<number[]>;
  hourlyCredits(miner: string, sinceMs: number): Promise<CreditRow[]>;
  leaderboard(
    epoch: number,
    opts: { offset: number; limit: number; gpuClass: string | null },
  ): Promise<{ total: number; rows: LeaderboardEntry[] }>;
  /** One miner's row and rank on the board `leaderboard` pages through (null when it is not on it). */
  leaderboardRank(epoch: number, address: string, gpuClass: string | null): Promise<{ rank: number; entry: LeaderboardEntry } | null>;
  ledger(miner: string, opts: { beforeMs: number | null; beforeTaskId: string | null; limit: number }): Promise<LedgerRow[]>;
  /** Validated results with their bodies, oldest first (one per task: the first validated); `variant`: only that variant's tasks. */
  validatedResults(afterTaskId: string | null, limit: number, variant?: string | null): Promise<ValidatedResult[]>;
  taskDocumentUrls(taskId: string): Promise<Map<string, string | null>>;
  close(): Promise<void>;
}
