import type { Logger } from '../../src-node/log';
import type { Store } from '../store/store';
import type { ResultChecker } from '../verify/check-pool';
import type { Tokenizer } from '../tasks/tokenizer';
import type { RateLimits } from '../http/rate-limit';
import type { LeaseLimits } from './lease-limits';
import type { ReplicaRules } from './replica-choice';

/**
 * Re-computes a task's documents (in production the teacher worker; `TeacherPort.label` fits).
 * Returns one encoded soft-label record (`encodeSoftLabels`) per document, in order.
 */
export interface Recomputer {
  /** The model it computes with; audits skip tasks of another model (null or unset: every task's). */
  readonly modelHash?: string | null;
  label(task: {
    taskId: string;
    k: number;
    seqLen: number;
    documents: { docId: string; text: string }[];
  }): Promise<{ docId: string; encoded: Uint8Array }[]>;
}

export interface ValidatorSettings {
  /** Model hashes whose labels this validator accepts (the expected one, plus the demo model's when allowed). */
  acceptedModelHashes: string[];
  /** The hash tasks carry when a miner does not name its model. */
  modelHash: string;
  allowDemoModel: boolean;
  redundancy: number;
  leaseMs: number;
  /** Open leases per key, expiry strikes and cool-down. */
  leaseLimits: LeaseLimits;
  /** Which keys may compute each other's replicas (docs/PROTOCOL.md, "Who checks whom"). */
  replicaRules: ReplicaRules;
  /** Keys the operator vouches for: established from their first lease (seeding a validator without a recomputer). */
  establishedKeys: Set<string>;
  /** Request rates per key and per remote address (429 with Retry-After). */
  rateLimits: RateLimits;
  epochMs: number;
  epochEmissionNano: bigint;
  /** Closed epochs whose credit can still be revoked; their weights are published after. */
  settleEpochs: number;
  k: number;
  seqLen: number;
  localMode: boolean;
  /** Payout addresses refused (exchange deposit addresses and the like). */
  refusedPayoutAddresses: Set<string>;
  /** Commune uid per miner address for the weights file; unknown miners get null. */
  uids: Map<string, number>;
}

export interface ValidatorContext {
  store: Store;
  settings: ValidatorSettings;
  tokenizer: () => Promise<Tokenizer>;
  recomputer: Recomputer | null;
  log: Logger;
  clock: () => number;
  random: () => number;
  /** Where the byte-heavy checks of a submission run: worker threads, or inline. */
  checks: ResultChecker;
  /** Queues a re-computation of a task in 'checking' state (runs after the caller's transaction). */
  scheduleRecheck(taskId: string): void;
  /** Offers a task just settled as validated for an audit, which may pick it (after the caller's transaction). */
  offerAudit(taskId: string): void;
}
