import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { errorMessage, silentLogger, type Logger } from '../src-node/log';
import { DEFAULT_SETTLE_EPOCHS } from './accounting/earnings';
import { WeightsPublisher } from './accounting/weights-publisher';
import {
  BASE_OPEN_LEASES,
  DEFAULT_AUDIT_QUEUE,
  DEFAULT_AUDIT_SHARE,
  DEFAULT_AUDITS_PER_KEY,
  DEFAULT_EPOCH_EMISSION_NANO,
  DEFAULT_EPOCH_MS,
  DEFAULT_KEY_REQUESTS_PER_S,
  DEFAULT_LEASE_COOL_DOWN_MS,
  DEFAULT_LEASE_MS,
  DEFAULT_REDUNDANCY,
  LEASE_STRIKES_TO_COOL_DOWN,
  MAX_LEASE_STRIKES,
  MAX_OPEN_LEASES,
} from './config';
import { DEFAULT_K, DEFAULT_SEQ_LEN } from '../src-shared/protocol';
import { distPath } from '../src-node/app-paths';
import { requestRate, type RateLimits } from './http/rate-limit';
import { MAX_HEADER_LINES } from './http/request-target';
import { DEFAULT_MODEL_FILE_SERVING, ModelFileServer, type ModelFileServing } from './http/model-files';
import { createRouter, type RequestObserver } from './http/router';
import { prepareTeacherVariants, type TeacherVariantSpec } from './model-files/teacher-variants';
import type { Recomputer, ValidatorContext, ValidatorSettings } from './service/context';
import type { LeaseLimits } from './service/lease-limits';
import { DEFAULT_FIRST_SEEN_APART_MS, type ReplicaRules } from './service/replica-choice';
import { prepareDocuments } from './service/leasing';
import type { MinerRegistry } from './service/miner-registry';
import { RecheckQueue, recheckTask, resumeChecks } from './service/recheck';
import { Auditor, type AuditSettings, type AuditStats } from './service/audits';
import { KEEP_ALL_RESULTS, pruneResultBodies, type PruneReport, type ResultRetention } from './service/result-retention';
import { openStore } from './store/open-store';
import type { NewDocument, Store } from './store/store';
import type { Tokenizer, TokenizerLoader } from './tasks/tokenizer';
import { CheckPool, InlineChecker } from './verify/check-pool';

export type { Recomputer } from './service/context';
export type { TeacherVariantSpec } from './model-files/teacher-variants';
export { DEFAULT_MODEL_FILE_SERVING } from './http/model-files';
export type { AuditStats } from './service/audits';
export { DEFAULT_AUDIT_QUEUE, DEFAULT_AUDIT_SHARE, DEFAULT_AUDITS_PER_KEY } from './config';
export type { Store } from './store/store';
export type { Tokenizer } from './tasks/tokenizer';
export { openStore } from './store/open-store';
export { prepareDocuments } from './service/leasing';
export { requestRate } from './http/rate-limit';
export { DEFAULT_SETTLE_EPOCHS } from './accounting/earnings';
export { LOCAL_RESULT_RETENTION } from './service/result-retention';
export { DEFAULT_MINERS_REFRESH_MS, RefreshingMinerRegistry, type MinerRegistry } from './service/miner-registry';
export { allowListFile } from './service/allow-list-file';
export { DEFAULT_KEYS_STORAGE, subnetMiners } from './service/subnet-miners';

export interface ValidatorOptions {
  /** 0 picks a free port. */
  port: number;
  host?: string;
  dataDir: string;
  /** postgres://... to share one database between validator processes; else SQLite in dataDir. */
  databaseUrl?: string | null;
  /** Lowercase hex SHA-256 of the teacher model whose labels are accepted: one variant, named DEFAULT_VARIANT_ID. */
  modelHash?: string;
  /**
   * Or the teacher variants accepted, the default first (what a lease naming no model gets); those
   * with files are listed by `GET /v1/model` and served from their folders.
   */
  variants?: TeacherVariantSpec[];
  /** How the variants' files are served (defaults DEFAULT_MODEL_FILE_SERVING; `mibPerS` 0: mirrors only). */
  modelFiles?: Partial<ModelFileServing>;
  /** Also accept the tiny demo model (its hash in `demoModelHash`). */
  allowDemoModel?: boolean;
  demoModelHash?: string | null;
  redundancy?: number;
  leaseMs?: number;
  /** Open leases per key, expiry strikes, cool-down (docs/PROTOCOL.md, "Lease limits"); defaults in config.ts. */
  leaseLimits?: Partial<LeaseLimits>;
  /**
   * Requests per key (default DEFAULT_KEY_REQUESTS_PER_S) and per remote address (default off: every client
   * of a validator behind a proxy, or of a test, is one address); null turns one off.
   */
  rateLimits?: Partial<RateLimits>;
  /**
   * Which keys may compute each other's replicas: first-seen window (default 10 min) and network
   * prefix (default off) (docs/PROTOCOL.md, "Who checks whom").
   */
  replicaRules?: Partial<ReplicaRules>;
  /** Keys established from their first lease: the operator's own miners, when no recomputer checks new keys. */
  establishedKeys?: string[];
  epochMs?: number;
  epochEmissionNano?: bigint;
  /** Epochs an epoch settles for after it closes, before its weights are published (default DEFAULT_SETTLE_EPOCHS). */
  settleEpochs?: number;
  k?: number;
  seqLen?: number;
  /** The validator's own teachers, at most one per variant (`nya validator --teacher DIR`, repeatable). */
  recomputers?: readonly Recomputer[];
  /**
   * Audits of settled tasks by the recomputer (docs/PROTOCOL.md, "Audits"): the share of credited
   * tokens re-computed (default DEFAULT_AUDIT_SHARE; 0 turns them off), audits per key and settling
   * window, and how many picked audits may wait for the teacher. Off without a recomputer and in local mode.
   */
  audits?: Partial<AuditSettings>;
  /** The embedded validator of `nya mine`: one local miner, checked by re-computation. */
  localMode?: boolean;
  tokenizer?: TokenizerLoader;
  /** The model folder, whose own tokenizer.json (if any) the default tokenizer uses, as the teacher does. */
  modelDir?: string | null;
  refusedPayoutAddresses?: string[];
  uids?: Record<string, number>;
  log?: Logger;
  clock?: () => number;
  random?: () => number;
  /** An already open store (tests, the bench); otherwise opened from dataDir/databaseUrl and closed on close(). */
  store?: Store;
  /**
   * Worker threads for checking result bytes (`CheckPool`); 0 checks on the event loop's thread,
   * which is enough for the embedded validator's one miner. `nya validator` uses `defaultCheckThreads()`.
   */
  checkThreads?: number;
  /** Sees every answered request's time inside the validator (the bench's server-side latency). */
  observeRequest?: RequestObserver;
  /** A request body must arrive whole within this after its headers, else 408 (default 120 s: 8 MiB at ~0.6 Mbit/s). */
  uploadDeadlineMs?: number;
  /** Result uploads one key may have in flight at once; more get 429 (default 2: one sending, one queued). */
  uploadsPerKey?: number;
  /**
   * Lease and take results only from these keys (`--miners-from`; docs/PROTOCOL.md, 403
   * `not-registered`); default: any key. The validator starts it, and disposes of it on close().
   */
  miners?: MinerRegistry | null;
  /**
   * How long result bodies no check needs are kept (default KEEP_ALL_RESULTS: validated bodies are
   * the data set; the embedded validator passes LOCAL_RESULT_RETENTION). Checked every
   * `retentionIntervalMs` (default 5 min) and at start.
   */
  resultRetention?: ResultRetention;
  retentionIntervalMs?: number;
}

export interface RunningValidator {
  url: string;
  store: Store;
  /** Queues documents and tokenizes them for leasing; returns how many were new. */
  addDocuments(docs: NewDocument[]): Promise<number>;
  /** Resolves when every queued re-computation and audit has run (tests, local mode). */
  idle(): Promise<void>;
  /** What the audits did since start-up. */
  audits(): AuditStats;
  /** Writes the weights of the last settled epoch now (a timer does it every 10 s otherwise). */
  publishWeights(): Promise<void>;
  /** Frees the result bodies past the retention now (a timer does it otherwise). */
  pruneResultBodies(): Promise<PruneReport>;
  close(): Promise<void>;
}

const NONCE_PRUNE_MS = 60_000;
const RETENTION_INTERVAL_MS = 5 * 60_000;
export const DEFAULT_UPLOAD_DEADLINE_MS = 120_000;
export const DEFAULT_UPLOADS_PER_KEY = 2;
/**
 * A miner's request head is a few hundred bytes in one packet; Node's default of 60 s would let a
 * client that trickles its headers hold a socket (and a parser) for a minute.
 */
const HEADERS_TIMEOUT_MS = 20_000;

/**
 * One check thread per core the event loop does not use, and at least two: a thread writing a
 * body to disk can stall on writeback, and the next submission's checks should not wait for it
 * (2 cores, 32-document tasks: server-side p99 41-69 ms in 6 of 7 runs with two threads, 70-112 ms
 * with one; docs/PERFORMANCE.md).
 */
export function defaultCheckThreads(): number {
  return Math.max(2, availableParallelism() - 1);
}

/** The teacher's tokenizer: the model folder's own tokenizer.json if it has one, else the bundled one. */
export function teacherTokenizer(modelDir?: string | null): TokenizerLoader {
  return async () => (await import('./tasks/default-tokenizer')).loadTokenizer(modelDir);
}

/** The variant a validator given only a model hash accepts. */
export const DEFAULT_VARIANT_ID = 'teacher';

/** The variants accepted: `variants`, or one of `modelHash`; plus the demo model when allowed and not one of them. */
function variantSpecs(opts: ValidatorOptions): TeacherVariantSpec[] {
  const specs = [...(opts.variants ?? [])];
  if (opts.modelHash !== undefined) {
    if (specs.length > 0) throw new Error('Give the validator either modelHash or variants, not both.');
    specs.push({ id: DEFAULT_VARIANT_ID, label: 'Teacher', modelHash: opts.modelHash, minVramMiB: 0, dir: null, files: [], mirrors: [] });
  }
  const demo = opts.allowDemoModel && opts.demoModelHash;
  if (demo && !specs.some((v) => v.modelHash === demo))
    specs.push({ id: 'demo', label: 'Demo model', modelHash: demo, minVramMiB: 0, dir: null, files: [], mirrors: [] });
  return specs;
}

export async function startValidator(opts: ValidatorOptions): Promise<RunningValidator> {
  await cryptoWaitReady();
  const log = opts.log ?? silentLogger;
  const serving = { ...DEFAULT_MODEL_FILE_SERVING, ...opts.modelFiles };
  // Before the store opens: a bad variant stops start-up without leaving anything open.
  const teachers = await prepareTeacherVariants(variantSpecs(opts), { dataDir: opts.dataDir, serveFiles: serving.mibPerS > 0, log });
  const threads = opts.checkThreads ?? 0;
  // A validator busy enough for check threads also keeps SQLite's checkpoints (fsyncs) off its event loop.
  const store =
    opts.store ??
    (await openStore({
      dataDir: opts.dataDir,
      databaseUrl: opts.databaseUrl ?? null,
      backgroundCheckpoints: threads > 0,
      onWarning: (m) => log.warn(m),
    }));
  const settings: ValidatorSettings = {
    modelHash: teachers.accepted[0]!.modelHash,
    variants: teachers.accepted,
    allowDemoModel: opts.allowDemoModel ?? false,
    redundancy: Math.max(1, opts.redundancy ?? DEFAULT_REDUNDANCY),
    leaseMs: opts.leaseMs ?? DEFAULT_LEASE_MS,
    leaseLimits: {
      baseOpenLeases: BASE_OPEN_LEASES,
      maxOpenLeases: MAX_OPEN_LEASES,
      strikesToCoolDown: LEASE_STRIKES_TO_COOL_DOWN,
      maxStrikes: MAX_LEASE_STRIKES,
      coolDownMs: DEFAULT_LEASE_COOL_DOWN_MS,
      ...opts.leaseLimits,
    },
    rateLimits: { perKey: requestRate(DEFAULT_KEY_REQUESTS_PER_S), perAddress: null, ...opts.rateLimits },
    replicaRules: { firstSeenApartMs: DEFAULT_FIRST_SEEN_APART_MS, networkPrefix: null, ...opts.replicaRules },
    establishedKeys: new Set(opts.establishedKeys ?? []),
    epochMs: opts.epochMs ?? DEFAULT_EPOCH_MS,
    epochEmissionNano: opts.epochEmissionNano ?? DEFAULT_EPOCH_EMISSION_NANO,
    settleEpochs: Math.max(0, Math.floor(opts.settleEpochs ?? DEFAULT_SETTLE_EPOCHS)),
    k: opts.k ?? DEFAULT_K,
    seqLen: opts.seqLen ?? DEFAULT_SEQ_LEN,
    localMode: opts.localMode ?? false,
    refusedPayoutAddresses: new Set(opts.refusedPayoutAddresses ?? []),
    uids: new Map(Object.entries(opts.uids ?? {})),
  };
  if (settings.localMode && !opts.recomputers?.length)
    throw new Error('Local mode re-computes sampled documents itself and needs a recomputer.');
  const miners = opts.miners ?? null;
  // Before the store is used: a malformed allow-list stops start-up here, naming its line.
  await miners?.start().catch(async (error: unknown) => {
    if (!opts.store) await store.close();
    throw error;
  });
  const loadTokenizer = opts.tokenizer ?? teacherTokenizer(opts.modelDir);
  let tokenizer: Promise<Tokenizer> | null = null;
  let rechecks: RecheckQueue | null = null;
  let auditor: Auditor | null = null;
  const checks = threads > 0 ? new CheckPool(distPath('main', 'check-worker.cjs'), threads, (m) => log.warn(m)) : new InlineChecker();
  const ctx: ValidatorContext = {
    store,
    settings,
    log,
    recomputers: opts.recomputers ?? [],
    clock: opts.clock ?? Date.now,
    random: opts.random ?? Math.random,
    tokenizer: () => (tokenizer ??= loadTokenizer()),
    checks,
    scheduleRecheck: (taskId) => rechecks!.schedule(taskId),
    offerAudit: (taskId) => auditor!.offer(taskId),
  };
  auditor = new Auditor(ctx, {
    share: opts.audits?.share ?? DEFAULT_AUDIT_SHARE,
    auditsPerKey: opts.audits?.auditsPerKey ?? DEFAULT_AUDITS_PER_KEY,
    maxQueued: opts.audits?.maxQueued ?? DEFAULT_AUDIT_QUEUE,
  });
  rechecks = new RecheckQueue(
    (taskId) => recheckTask(ctx, taskId),
    (e) => log.error(`re-check failed: ${e instanceof Error ? e.message : String(e)}`),
  );
  await resumeChecks(ctx, (taskId) => rechecks!.schedule(taskId));
  const weights = new WeightsPublisher(ctx, opts.dataDir);
  const uploadDeadlineMs = opts.uploadDeadlineMs ?? DEFAULT_UPLOAD_DEADLINE_MS;
  const router = createRouter(ctx, weights, {
    uploadDeadlineMs,
    uploadsPerKey: opts.uploadsPerKey ?? DEFAULT_UPLOADS_PER_KEY,
    miners,
    modelCatalog: teachers.catalog,
    modelFiles: teachers.served.size > 0 ? new ModelFileServer(teachers, serving) : null,
    ...(opts.observeRequest ? { observe: opts.observeRequest } : {}),
  });
  const server = createServer(router);
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  // The router's deadline covers bodies it reads; this backstop covers what it does not, such as the
  // rest of a refused body that Node reads and discards, so no request holds a socket for longer.
  server.requestTimeout = HEADERS_TIMEOUT_MS + uploadDeadlineMs;
  server.maxHeadersCount = MAX_HEADER_LINES + 1;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve());
  });
  weights.start();
  const pruner = setInterval(() => void store.pruneNonces(ctx.clock()).catch(() => undefined), NONCE_PRUNE_MS);
  pruner.unref();
  const retention = opts.resultRetention ?? KEEP_ALL_RESULTS;
  const pruneBodies = () =>
    pruneResultBodies(ctx, retention).then((freed) => {
      if (freed.bodies > 0 || freed.tasks > 0) {
        const forgot = freed.tasks > 0 ? `, forgot ${freed.tasks} settled tasks` : '';
        const line = `freed ${freed.bodies} result bodies (${(freed.bytes / 1048576).toFixed(1)} MiB) past the retention${forgot}`;
        if (settings.localMode) log.debug(line);
        else log.info(line);
      }
      return freed;
    });
  let pruning: Promise<unknown> = Promise.resolve();
  const pruneInBackground = () => {
    pruning = pruning.then(() => pruneBodies()).catch((e: unknown) => log.error(`pruning result bodies failed: ${errorMessage(e)}`));
  };
  const keepsAll = retention.keepDays === null && retention.keepBytes === null;
  const retentionTimer = keepsAll ? null : setInterval(pruneInBackground, opts.retentionIntervalMs ?? RETENTION_INTERVAL_MS);
  retentionTimer?.unref();
  if (!keepsAll) pruneInBackground();
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  const audited = auditor.enabled
    ? `audits ${auditor.share * 100} % of credited tokens`
    : settings.localMode
      ? 're-computes every check'
      : ctx.recomputers.length === 0
        ? 'no audits (no --teacher)'
        : 'no audits (--audit-share 0)';
  log.info(
    `validator on ${url} (${store.kind}${settings.localMode ? ', local mode' : ''}, redundancy ${settings.redundancy}, variants ${settings.variants.map((v) => v.id).join(', ')}, ${audited})`,
  );

  return {
    url,
    store,
    async addDocuments(docs) {
      const added = await store.addDocuments(docs);
      while ((await prepareDocuments(store, ctx.tokenizer, settings.seqLen)) > 0);
      return added;
    },
    async idle() {
      await rechecks!.idle();
      await auditor!.idle();
      await rechecks!.idle();
    },
    audits: () => ({ ...auditor!.stats }),
    publishWeights: () => weights.tick(),
    pruneResultBodies: pruneBodies,
    async close() {
      weights.dispose();
      clearInterval(pruner);
      if (retentionTimer) clearInterval(retentionTimer);
      await pruning;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await rechecks!.idle();
      await auditor!.idle();
      await checks.close();
      await miners?.dispose();
      if (!opts.store) await store.close();
    },
  };
}
