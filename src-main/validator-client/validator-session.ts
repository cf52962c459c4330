import {
  API,
  HealthResponse,
  HistoryResponse,
  LeaderboardResponse,
  LeaseResponse,
  LedgerResponse,
  MeResponse,
  PayoutChallengeResponse,
  PayoutLinkRequest,
  PayoutLinkResponse,
  Sha256Hex,
  SOFT_LABELS_CONTENT_TYPE,
  SubmitResponse,
  TaskId,
  type LeaseRequest,
  type Task,
} from '../../src-shared/protocol';
import { decodeResultBundle } from '../../src-node/soft-labels';
import { Emitter, type Event } from '../../src-node/event';
import { errorMessage, type Logger } from '../../src-node/log';
import { CannotMine } from '../miner/cannot-mine';
import type { LeaseOutcome, MinerStats, MinerTask, SubmissionOutcome, ValidatorPort } from '../miner/ports';
import type { RequestSigner } from '../../src-shared/request-signer';
import { backoffDelayMs, DEFAULT_BACKOFF, type BackoffPolicy } from '../../src-node/backoff';
import { Outbox, type OutboxEntry } from './outbox';
import { ValidatorError, ValidatorHttp, type ValidatorCall, type ValidatorFailure } from './validator-http';

export interface ValidatorSessionOptions {
  baseUrl: string;
  signer: RequestSigner;
  dataDir: string;
  log: Logger;
  /** Client name and version, e.g. "nya-miner/0.1.0". */
  clientName: string;
  /** Leaderboard name. */
  displayName?: string;
  /** SHA-256 of the model the teacher runs, once known; sent with each lease. */
  modelHash?: () => string | null;
  fetch?: typeof globalThis.fetch;
  now?: () => number;
  random?: () => number;
  backoff?: Partial<BackoffPolicy>;
  requestTimeoutMs?: number;
}

export type ConnectionState = 'connecting' | 'online' | 'offline';

export interface ValidatorSessionState {
  connection: ConnectionState;
  lastError: string | null;
  retryAtMs: number | null;
  outboxPending: number;
}

/**
 * Refusals of a result that no retry can turn into an acceptance: the result is dropped from the
 * outbox and reported as rejected. Everything else (bad or stale signature, replayed nonce, an
 * unknown route) says something about this client or its clock, not the result, so it is kept.
 */
const FINAL_REFUSALS = new Set([
  'unknown-task',
  'expired',
  'duplicate',
  'bad-shape',
  'bad-request',
  'body-too-large',
  'unsupported-media-type',
  'wrong-model',
]);

const JSON_TYPE = 'application/json';
const encodeJson = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

/**
 * The miner's link to one validator: leases work, queues results durably and sends them in the
 * background with backoff while the validator is unreachable, and reads the miner's account for
 * the dashboard. Satisfies `ValidatorPort`.
 */
export class ValidatorSession implements ValidatorPort {
  private readonly http: ValidatorHttp;
  private readonly outbox: Outbox;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly backoff: BackoffPolicy;
  private readonly log: Logger;
  private current: ValidatorSessionState = { connection: 'connecting', lastError: null, retryAtMs: null, outboxPending: 0 };
  private failuresInRow = 0;
  /** Set while the validator is unreachable; the sender waits for it. */
  private sendNotBeforeMs = 0;
  /** Per-result backoff after a non-final refusal, so one stuck result does not block the rest. */
  private readonly retryEntryAt = new Map<string, { attempts: number; atMs: number }>();
  // A listener's failure is logged; the session and the other listeners carry on.
  private readonly changed = new Emitter<void>((error) => this.log.error(`a validator state listener failed: ${errorMessage(error)}`));
  private readonly settled = new Emitter<SubmissionOutcome>((error) =>
    this.log.error(`a submission outcome listener failed: ${errorMessage(error)}`),
  );
  /** The connection state or the outbox changed (read `state`). */
  readonly onChange: Event<void> = this.changed.event;
  /** A queued result got its final answer. */
  readonly onOutcome: Event<SubmissionOutcome> = this.settled.event;
  private readonly lifetime = new AbortController();
  private disposed = false;
  private sender: Promise<void> | null = null;
  private wakeSender: (() => void) | null = null;

  constructor(private readonly o: ValidatorSessionOptions) {
    this.now = o.now ?? Date.now;
    this.random = o.random ?? Math.random;
    this.backoff = { ...DEFAULT_BACKOFF, ...o.backoff };
    this.log = o.log;
    this.http = new ValidatorHttp({
      baseUrl: o.baseUrl,
      signer: o.signer,
      fetch: o.fetch ?? globalThis.fetch,
      now: this.now,
      timeoutMs: o.requestTimeoutMs ?? 30_000,
    });
    this.outbox = new Outbox(o.dataDir, o.log.child('outbox'), this.now);
  }

  get state(): ValidatorSessionState {
    return this.current;
  }

  /** Loads results a previous run left unsent and starts sending them. */
  async start(): Promise<void> {
    const { queued, corrupt } = await this.outbox.scan();
    if (queued > 0) this.log.info(`outbox: ${queued} result(s) from an earlier run waiting to be sent to ${this.http.baseUrl}`);
    if (corrupt > 0) this.log.warn(`outbox: ${corrupt} damaged result(s) set aside`);
    this.update({ outboxPending: this.outbox.size });
    this.kickSender();
  }

  /** Stops sending and aborts requests in flight; queued results stay on disk for the next start. */
  async dispose(): Promise<void> {
    this.disposed = true;
    this.lifetime.abort(new Error('the validator session was closed'));
    this.wakeSender?.();
    await this.sender;
    this.changed.dispose();
    this.settled.dispose();
  }

  // -------------------------------------------------------------------------------------------
  // The miner's loop

  async lease(req: { maxTokens: number; tokensPerS: number | null; gpuClass: string | null }, signal?: AbortSignal): Promise<LeaseOutcome> {
    try {
      const answer = await this.request(
        {
          method: 'POST',
          pathWithQuery: API.lease,
          schema: LeaseResponse,
          body: encodeJson(this.leaseRequest(req)),
          contentType: JSON_TYPE,
          signed: true,
          signal,
        },
        true,
      );
      if (answer.kind === 'no-work') return { kind: 'no-work', retryAfterMs: answer.retryAfterMs };
      return { kind: 'task', task: toMinerTask(answer.task) };
    } catch (error) {
      if (!(error instanceof ValidatorError)) throw error;
      if (error.failure.kind === 'refused' && error.failure.code === 'wrong-model') {
        return { kind: 'cannot-mine', error: new CannotMine('wrong-model', error.message) };
      }
      return { kind: 'offline', error: error.message, retryAtMs: this.current.retryAtMs ?? this.now() + this.backoff.baseMs };
    }
  }

  async submit(result: { taskId: string; bundle: Uint8Array; tokens: number }): Promise<void> {
    if (this.disposed) throw new Error('The validator session is closed; the result was not queued.');
    if (!TaskId.safeParse(result.taskId).success)
      throw new Error(`'${result.taskId}' is not a task id the protocol allows; the result was not queued.`);
    if (!Number.isInteger(result.tokens) || result.tokens < 0)
      throw new Error(`A result's token count must be a whole number >= 0, not ${result.tokens}.`);
    try {
      decodeResultBundle(result.bundle);
    } catch (error) {
      throw new Error(`The result for task ${result.taskId} is not a valid result bundle (${errorMessage(error)}); it was not queued.`);
    }
    try {
      await this.outbox.put(result.taskId, result.bundle, result.tokens);
    } catch (error) {
      throw new Error(
        `The result for task ${result.taskId} could not be saved in ${this.outbox.dir} (${errorMessage(error)}); check free space and permissions.`,
      );
    }
    this.retryEntryAt.delete(result.taskId);
    this.update({ outboxPending: this.outbox.size });
    this.kickSender();
  }

  /** The miner's figures: `me` itself, which carries everything `MinerStats` reads. */
  stats(): Promise<MinerStats> {
    return this.me();
  }

  // -------------------------------------------------------------------------------------------
  // Account, leaderboard and payout (dashboard and wallet)

  me(): Promise<MeResponse> {
    return this.request({ method: 'GET', pathWithQuery: API.me, schema: MeResponse, signed: true }, false);
  }

  /** One page of this miner's per-task ledger, newest first; pass the previous page's `next` as `before`. */
  ledger(before?: string, limit?: number): Promise<LedgerResponse> {
    const params = new URLSearchParams({ ...(before ? { before } : {}), ...(limit ? { limit: String(limit) } : {}) });
    const query = params.size > 0 ? `?${params}` : '';
    return this.request({ method: 'GET', pathWithQuery: `${API.ledger}${query}`, schema: LedgerResponse, signed: true }, false);
  }

  history(): Promise<HistoryResponse> {
    return this.request({ method: 'GET', pathWithQuery: API.history, schema: HistoryResponse, signed: true }, false);
  }

  /** A page of the board; with `address`, also that miner's row and rank (`me`), wherever it is. */
  leaderboard(query: { page: number; pageSize: number; gpuClass?: string | null; address?: string }): Promise<LeaderboardResponse> {
    const params = new URLSearchParams({ page: String(query.page), pageSize: String(query.pageSize) });
    if (query.gpuClass) params.set('gpuClass', query.gpuClass);
    if (query.address) params.set('address', query.address);
    return this.request(
      { method: 'GET', pathWithQuery: `${API.leaderboard}?${params}`, schema: LeaderboardResponse, signed: false },
      false,
    );
  }

  health(): Promise<HealthResponse> {
    return this.request({ method: 'GET', pathWithQuery: API.health, schema: HealthResponse, signed: false }, false);
  }

  payoutChallenge(): Promise<PayoutChallengeResponse> {
    return this.request(
      {
        method: 'POST',
        pathWithQuery: API.payoutChallenge,
        schema: PayoutChallengeResponse,
        body: encodeJson({}),
        contentType: JSON_TYPE,
        signed: true,
      },
      false,
    );
  }

  linkPayout(req: PayoutLinkRequest): Promise<PayoutLinkResponse> {
    const body = PayoutLinkRequest.parse(req);
    return this.request(
      {
        method: 'POST',
        pathWithQuery: API.payoutLink,
        schema: PayoutLinkResponse,
        body: encodeJson(body),
        contentType: JSON_TYPE,
        signed: true,
      },
      false,
    );
  }

  // -------------------------------------------------------------------------------------------
  // Requests and connection state

  /**
   * Every request goes through here so the connection state follows what the validator does.
   * `tracked` requests (lease, result upload) also drive the backoff and `lastError`; dashboard
   * reads only move online/offline.
   */
  private async request<T>(call: ValidatorCall<T>, tracked: boolean): Promise<T> {
    const signal = call.signal ? AbortSignal.any([call.signal, this.lifetime.signal]) : this.lifetime.signal;
    try {
      const answer = await this.http.call({ ...call, signal });
      this.succeeded(tracked);
      return answer;
    } catch (error) {
      if (error instanceof ValidatorError && !this.disposed) this.failed(error.failure, tracked);
      throw error;
    }
  }

  private succeeded(tracked: boolean): void {
    const wasOffline = this.current.connection === 'offline';
    if (wasOffline) this.log.info(`validator ${this.http.baseUrl} is reachable again`);
    if (tracked) this.failuresInRow = 0;
    this.sendNotBeforeMs = 0;
    this.update(
      tracked
        ? { connection: 'online', lastError: null, retryAtMs: null }
        : { connection: 'online', ...(wasOffline ? { retryAtMs: null } : {}) },
    );
    // Results waiting out a backoff go now that the validator answers.
    if (wasOffline) this.wakeSender?.();
  }

  private failed(failure: ValidatorFailure, tracked: boolean): void {
    if (failure.kind === 'unreachable') {
      const delayMs = failure.retryAfterMs ?? backoffDelayMs(this.failuresInRow, this.random, this.backoff);
      this.failuresInRow += 1;
      const retryAtMs = this.now() + delayMs;
      this.sendNotBeforeMs = retryAtMs;
      if (this.current.connection !== 'offline') this.log.warn(`${failure.message} Retrying with backoff.`);
      this.update({ connection: 'offline', lastError: failure.message, retryAtMs });
      return;
    }
    if (!tracked) {
      this.update({ connection: 'online' });
      return;
    }
    const delayMs = backoffDelayMs(this.failuresInRow, this.random, this.backoff);
    this.failuresInRow += 1;
    this.log.warn(failure.message);
    this.update({ connection: 'online', lastError: failure.message, retryAtMs: this.now() + delayMs });
  }

  private update(patch: Partial<ValidatorSessionState>): void {
    const next = { ...this.current, ...patch };
    const same = (Object.keys(next) as (keyof ValidatorSessionState)[]).every((key) => next[key] === this.current[key]);
    if (same) return;
    this.current = next;
    this.changed.fire();
  }

  private leaseRequest(req: { maxTokens: number; tokensPerS: number | null; gpuClass: string | null }): LeaseRequest {
    const body: LeaseRequest = { client: this.o.clientName.slice(0, 128) };
    const maxTokens = Math.floor(req.maxTokens);
    if (maxTokens > 0) body.maxTokens = maxTokens;
    if (req.tokensPerS && Number.isFinite(req.tokensPerS) && req.tokensPerS > 0) body.tokensPerS = req.tokensPerS;
    if (req.gpuClass) body.gpuClass = req.gpuClass.slice(0, 64);
    if (this.o.displayName) body.name = this.o.displayName.slice(0, 48);
    const modelHash = this.o.modelHash?.();
    if (modelHash && Sha256Hex.safeParse(modelHash).success) body.modelHash = modelHash;
    return body;
  }

  // -------------------------------------------------------------------------------------------
  // The sender: one result at a time, oldest first

  private kickSender(): void {
    if (this.disposed) return;
    if (this.sender) {
      this.wakeSender?.();
      return;
    }
    this.sender = this.sendLoop()
      .catch((error) => this.log.error(`the result sender stopped: ${errorMessage(error)}`))
      .finally(() => {
        this.sender = null;
      });
  }

  private async sendLoop(): Promise<void> {
    while (!this.disposed) {
      const entries = this.outbox.list();
      if (entries.length === 0) return;
      const now = this.now();
      const dueAt = (entry: OutboxEntry) => Math.max(this.sendNotBeforeMs, this.retryEntryAt.get(entry.taskId)?.atMs ?? 0);
      const next = entries.reduce((best, entry) => (dueAt(entry) < dueAt(best) ? entry : best));
      const waitMs = dueAt(next) - now;
      // The timer, not a re-read of the (injectable) clock, decides that the wait is over.
      if (waitMs > 0 && (await this.pause(waitMs)) === 'woken') continue;
      if (this.disposed) return;
      await this.send(next);
    }
  }

  /** Waits `ms`, or less when `wakeSender` is called (new result, validator back, dispose). */
  private pause(ms: number): Promise<'elapsed' | 'woken'> {
    return new Promise((resolve) => {
      const done = (how: 'elapsed' | 'woken') => {
        clearTimeout(timer);
        this.wakeSender = null;
        resolve(how);
      };
      const timer = setTimeout(() => done('elapsed'), ms);
      this.wakeSender = () => done('woken');
    });
  }

  private async send(entry: OutboxEntry): Promise<void> {
    let bundle: Uint8Array;
    try {
      bundle = await this.outbox.read(entry);
    } catch (error) {
      await this.outbox.quarantine(entry.taskId, errorMessage(error));
      this.update({ outboxPending: this.outbox.size });
      return;
    }
    try {
      const answer = await this.request(
        {
          method: 'POST',
          pathWithQuery: API.result(entry.taskId),
          schema: SubmitResponse,
          body: bundle,
          bodyDigest: { sha256Hex: entry.sha256Hex },
          contentType: SOFT_LABELS_CONTENT_TYPE,
          signed: true,
        },
        true,
      );
      await this.settle(entry, { status: answer.status, reason: answer.reason, creditedTokens: answer.creditedTokens });
    } catch (error) {
      if (this.disposed) return;
      if (!(error instanceof ValidatorError)) throw error;
      const failure = error.failure;
      if (failure.kind === 'refused' && FINAL_REFUSALS.has(failure.code)) {
        this.log.warn(
          `task ${entry.taskId}: the validator will never accept this result (${failure.message}); dropping it from the outbox`,
        );
        await this.settle(entry, { status: 'rejected', reason: failure.message });
      } else if (failure.kind !== 'unreachable') {
        const attempts = (this.retryEntryAt.get(entry.taskId)?.attempts ?? 0) + 1;
        const atMs = this.now() + backoffDelayMs(attempts - 1, this.random, this.backoff);
        this.retryEntryAt.set(entry.taskId, { attempts, atMs });
      }
    }
  }

  /** A final answer: drop the queued copy, then tell the miner. */
  private async settle(
    entry: OutboxEntry,
    answer: { status: SubmissionOutcome['status']; reason?: string; creditedTokens?: number },
  ): Promise<void> {
    await this.outbox.remove(entry.taskId);
    this.retryEntryAt.delete(entry.taskId);
    this.update({ outboxPending: this.outbox.size });
    const outcome: SubmissionOutcome = { taskId: entry.taskId, tokens: entry.tokens, status: answer.status };
    if (answer.reason !== undefined) outcome.reason = answer.reason;
    if (answer.creditedTokens !== undefined) outcome.creditedTokens = answer.creditedTokens;
    // Per task at debug: the miner warns of a rejection and sums the rest up each minute.
    this.log.debug(`task ${entry.taskId}: ${answer.status}${answer.reason ? ` (${answer.reason})` : ''}`);
    this.settled.fire(outcome);
  }
}

function toMinerTask(task: Task): MinerTask {
  return {
    taskId: task.taskId,
    k: task.k,
    seqLen: task.seqLen,
    modelHash: task.modelHash,
    deadlineAtMs: task.deadlineAtMs,
    documents: task.documents.map((d) => ({ docId: d.docId, text: d.text })),
  };
}
