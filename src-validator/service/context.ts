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
  /**
   * The model it runs (lowercase hex SHA-256); absent: the validator's default variant's, as in
   * the embedded validator, whose one teacher is both. Only tasks of that model are re-computed by it.
   */
  readonly modelHash?: string;
  label(task: {
    taskId: string;
    k: number;
    seqLen: number;
    documents: { docId: string; text: string }[];
  }): Promise<{ docId: string; encoded: Uint8Array }[]>;
}

/** A teacher variant whose labels this validator accepts; the hash a lease names picks it. */
export interface AcceptedVariant {
  /** e.g. `mistral-7b-instruct-v0.3-int4` (a `VariantId`): what data-set rows name. */
  id: string;
  modelHash: string;
}

export interface ValidatorSettings {
  /** The variants accepted, the default first (plus the demo model when allowed); hashes distinct. */
  variants: AcceptedVariant[];
  /** The default variant's hash: what a lease naming no model gets. */
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
  /** The validator's own teachers (none, or one per variant it runs). */
  recomputers: readonly Recomputer[];
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

/**
 * The recomputer, if it runs this task's model. Labels of different variants are never compared
 * (docs/PROTOCOL.md, "Teacher variants"): a task of a variant the validator's own teacher does not
 * run is checked by other miners of that variant only.
 */
export function recomputerFor(ctx: ValidatorContext, modelHash: string): Recomputer | null {
  return ctx.recomputers.find((r) => (r.modelHash ?? ctx.settings.modelHash) === modelHash) ?? null;
}
