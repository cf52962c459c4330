import type { MinerStatus, StateSnapshot, TokenTotals } from '../../src-shared/state';
import type { Event } from '../../src-node/event';
import type { MeResponse } from '../../src-shared/protocol';
import type { EarningsReport } from './earnings';
import type { CannotMine } from './cannot-mine';

/**
 * What the miner needs from the teacher, the validator, the state and the token ledger, and
 * nothing more. The real `TeacherHost` (src-main/teacher), `ValidatorSession`
 * (src-main/validator-client), `StateStore.writer` (src-main/state) and `TokenLedger` satisfy these
 * structurally; tests drive the miner with small in-process implementations.
 */
export interface TeacherInfo {
  modelName: string;
  modelHash: string;
  isDemo: boolean;
  executionProvider: string;
  providerReason: string;
}

export interface MinerTask {
  taskId: string;
  k: number;
  seqLen: number;
  modelHash: string;
  deadlineAtMs: number;
  documents: { docId: string; text: string }[];
}

export interface LabelledDocument {
  docId: string;
  tokenCount: number;
  encoded: Uint8Array;
}

export interface TeacherPort {
  start(): Promise<TeacherInfo>;
  label(
    task: { taskId: string; k: number; seqLen: number; documents: { docId: string; text: string }[] },
    opts?: { signal?: AbortSignal; onProgress?: (p: { tokensDone: number; tokensTotal: number }) => void },
  ): Promise<LabelledDocument[]>;
  /** Release the GPU (pause); the next `label` starts it again. */
  stop(): Promise<void>;
  dispose(): Promise<void>;
}

export type LeaseOutcome =
  | { kind: 'task'; task: MinerTask }
  | { kind: 'no-work'; retryAfterMs: number }
  | { kind: 'offline'; error: string; retryAtMs: number }
  /** The validator refused in a way no retry fixes (another model): the user must act. */
  | { kind: 'cannot-mine'; error: CannotMine };

export interface SubmissionOutcome {
  taskId: string;
  tokens: number;
  status: 'accepted' | 'validated' | 'rejected';
  reason?: string;
  creditedTokens?: number;
}

/** What the validator says of this miner (`GET /v1/me`): token totals and the figures earnings are made of. */
export type MinerStats = Pick<MeResponse, 'validatedTokens' | 'pendingTokens' | 'rejectedTokens'> & EarningsReport;

/** A pause that is not the user's: the desktop policy (a game, battery, heat) or an unusable model. */
export type Hold = { reason: string; status: MinerStatus };

export interface ValidatorPort {
  start(): Promise<void>;
  dispose(): Promise<void>;
  lease(req: { maxTokens: number; tokensPerS: number | null; gpuClass: string | null }, signal?: AbortSignal): Promise<LeaseOutcome>;
  /** Resolves once the result is durably queued; sending happens in the background. */
  submit(result: { taskId: string; bundle: Uint8Array; tokens: number }): Promise<void>;
  readonly state: {
    connection: 'connecting' | 'online' | 'offline';
    lastError: string | null;
    retryAtMs: number | null;
    outboxPending: number;
  };
  onChange: Event<void>;
  onOutcome: Event<SubmissionOutcome>;
  stats(): Promise<MinerStats>;
}

/** The parts of the snapshot the miner writes, and no others (the validator's part is not its own). */
export type MinerFigures = 'miner' | 'task' | 'tokensPerS' | 'tokens' | 'earnings' | 'teacher';

/** The same shape as the store's `StateWriter`, declared here so the miner needs no concrete store. */
export interface StateWriter<K extends keyof StateSnapshot> {
  get(): Pick<StateSnapshot, K>;
  update(patch: Partial<Pick<StateSnapshot, K>> | ((current: Pick<StateSnapshot, K>) => Partial<Pick<StateSnapshot, K>>)): void;
}

/** The miner's token counts: what it computed, what the validator said, and the totals shown. */
export interface Ledger {
  addComputed(tokens: number, nowMs: number): void;
  addOutcome(outcome: SubmissionOutcome, nowMs: number): void;
  setValidatorTotals(stats: MinerStats): void;
  totals(nowMs: number): TokenTotals;
}

/** The thermal/power governor: a rest after each task and a scale on the task size. */
export interface Throttle {
  /** Milliseconds to rest after a task that computed for `taskMs`, and why (null: no rest). */
  restAfter(taskMs: number): { ms: number; reason: string } | null;
  /** 0..1, applied to the tokens a lease asks for. */
  sizeScale(): number;
}
