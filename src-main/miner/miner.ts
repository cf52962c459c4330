import { encodeResultBundle } from '../../src-node/soft-labels';
import type { MinerStatus, StateSnapshot } from '../../src-shared/state';
import { DisposableStore } from '../../src-node/event';
import { errorMessage, type Logger } from '../../src-node/log';
import type {
  Hold,
  Ledger,
  LeaseOutcome,
  MinerFigures,
  MinerTask,
  StateWriter,
  SubmissionOutcome,
  TeacherPort,
  Throttle,
  ValidatorPort,
} from './ports';
import { earningsFigures } from './earnings';
import { CannotMine } from './cannot-mine';
import { RateMeter } from './rate-meter';

export interface MinerOptions {
  teacher: TeacherPort;
  validator: ValidatorPort;
  state: StateWriter<MinerFigures>;
  ledger: Ledger;
  log: Logger;
  maxBatchTokens: () => number;
  gpuClass: () => string | null;
  now?: () => number;
  /** How long to wait before loading the model again after it failed. */
  teacherRetryMs?: number;
  /** How often to refresh validated totals and earnings from the validator. */
  statsIntervalMs?: number;
  /** How often "Speed now" is re-read from the rate meter. */
  rateIntervalMs?: number;
  /** The thermal/power governor: a rest after each task and a scale on the task size. */
  throttle?: Throttle;
  /** Told when mining cannot go on until the user acts (`nya mine` exits with the fix). */
  onCannotMine?: (error: CannotMine) => void;
}

/** After an epoch boundary, how long to let the validator's clock pass it too before asking. */
const BOUNDARY_SLACK_MS = 500;

/**
 * The miner's loop: lease → label → queue the result, with the next lease fetched while the
 * current task computes. It owns the miner's part of the state snapshot (not the validator's). A pause aborts the
 * running task within a second and releases the GPU; the task is re-run on resume if its lease
 * is still valid.
 */
export class Miner {
  private readonly now: () => number;
  private readonly rate: RateMeter;
  private running = false;
  private loop: Promise<void> | null = null;
  private userPausedUntilMs: number | null = null;
  private userPaused = false;
  private hold: Hold | null = null;
  private wake: (() => void) | null = null;
  private taskAbort: AbortController | null = null;
  private prefetched: Promise<LeaseOutcome> | null = null;
  private resumeTask: MinerTask | null = null;
  private statsTimer: ReturnType<typeof setInterval> | null = null;
  private rateTimer: ReturnType<typeof setInterval> | null = null;
  private boundaryTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly subscriptions = new DisposableStore();

  constructor(private readonly o: MinerOptions) {
    // Looked up per call, so a test's fake clock applies however late it is installed.
    this.now = o.now ?? (() => Date.now());
    this.rate = new RateMeter(20_000, this.now);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.subscriptions.add(this.o.validator.onOutcome((outcome) => this.onOutcome(outcome)));
    this.publishTotals();
    this.statsTimer = setInterval(() => void this.refreshStats(), this.o.statsIntervalMs ?? 15_000);
    this.statsTimer.unref?.();
    // The speed is a rate over the last seconds: re-read it while nothing else writes (between tasks, a rest, a long batch).
    this.rateTimer = setInterval(() => this.publishRate(), this.o.rateIntervalMs ?? 1000);
    this.rateTimer.unref?.();
    void this.refreshStats();
    this.loop = this.run().catch((error) => {
      this.o.log.error(`miner loop stopped: ${errorMessage(error)}`);
      this.setStatus('error', `The miner stopped: ${errorMessage(error)}`);
    });
  }

  async dispose(): Promise<void> {
    this.running = false;
    if (this.statsTimer) clearInterval(this.statsTimer);
    if (this.rateTimer) clearInterval(this.rateTimer);
    if (this.boundaryTimer) clearTimeout(this.boundaryTimer);
    this.subscriptions.dispose();
    this.taskAbort?.abort();
    this.wake?.();
    await this.loop;
  }

  /** The user's pause (dashboard, tray). `forMs` resumes by itself afterwards. */
  setPaused(paused: boolean, forMs?: number): StateSnapshot['miner'] {
    this.userPaused = paused;
    this.userPausedUntilMs = paused && forMs ? this.now() + forMs : null;
    if (paused) this.taskAbort?.abort();
    this.wake?.();
    this.publishMiner();
    return this.o.state.get().miner;
  }

  /**
   * A pause that is not the user's: the desktop policy (a game is running, on battery, too hot)
   * or an unusable model. `null` lifts it.
   */
  setHold(hold: Hold | null): void {
    const changed = (hold?.reason ?? null) !== (this.hold?.reason ?? null);
    this.hold = hold;
    if (hold) this.taskAbort?.abort();
    if (changed) {
      this.wake?.();
      this.publishMiner();
    }
  }

  private pausedReason(): Hold | null {
    if (this.userPaused && this.userPausedUntilMs !== null && this.now() >= this.userPausedUntilMs) {
      this.userPaused = false;
      this.userPausedUntilMs = null;
    }
    if (this.userPaused) {
      const until = this.userPausedUntilMs;
      const reason = until ? `Paused by you until ${new Date(until).toLocaleTimeString()}` : 'Paused by you';
      return { status: 'paused', reason };
    }
    return this.hold;
  }

  private async run(): Promise<void> {
    let teacherReady = false;
    while (this.running) {
      const paused = this.pausedReason();
      if (paused) {
        this.publishMiner();
        if (teacherReady) {
          teacherReady = false;
          await this.o.teacher.stop().catch((e) => this.o.log.warn(`teacher stop: ${errorMessage(e)}`));
          this.o.log.info('paused: GPU released');
        }
        await this.sleep(this.userPausedUntilMs ? this.userPausedUntilMs - this.now() : 60_000);
        continue;
      }
      if (!teacherReady) {
        teacherReady = await this.startTeacher();
        if (!teacherReady) {
          await this.sleep(this.o.teacherRetryMs ?? 30_000);
          continue;
        }
      }
      const task = this.taskToResume() ?? (await this.nextLease());
      if (!task || !this.running) continue;
      await this.work(task);
    }
  }

  /** The task a pause interrupted, while its lease is still valid: an expired one would be refused. */
  private taskToResume(): MinerTask | null {
    const task = this.resumeTask;
    if (task && task.deadlineAtMs <= this.now()) {
      this.o.log.warn(`lease ${task.taskId} expired during the pause; leasing again`);
      this.resumeTask = null;
    }
    return this.resumeTask;
  }

  private async startTeacher(): Promise<boolean> {
    this.setStatus('starting', 'Loading the teacher model');
    this.o.state.update((s) => ({ teacher: { ...s.teacher, state: 'loading', error: null } }));
    try {
      const info = await this.o.teacher.start();
      this.o.state.update({
        teacher: {
          state: 'ready',
          modelName: info.modelName,
          modelHash: info.modelHash,
          isDemo: info.isDemo,
          executionProvider: info.executionProvider,
          providerReason: info.providerReason,
          error: null,
        },
      });
      this.o.log.info(`teacher ready: ${info.modelName} on ${info.executionProvider} (${info.providerReason})`);
      return true;
    } catch (error) {
      const message = errorMessage(error);
      this.o.state.update((s) => ({ teacher: { ...s.teacher, state: 'error', error: message } }));
      if (error instanceof CannotMine) {
        this.cannotMine(error);
        return false;
      }
      this.o.log.error(`teacher failed to load: ${message}`);
      this.setStatus('error', `The model could not be loaded: ${message}`);
      return false;
    }
  }

  /** Returns a task, or null after waiting out "no work" / "offline" (the loop then re-checks pause). */
  private async nextLease(): Promise<MinerTask | null> {
    const pending = this.prefetched ?? this.lease();
    this.prefetched = null;
    const outcome = await pending;
    if (outcome.kind === 'task') {
      if (outcome.task.deadlineAtMs > this.now()) return outcome.task;
      this.o.log.warn(`lease ${outcome.task.taskId} expired before it started; leasing again`);
      return null;
    }
    if (outcome.kind === 'cannot-mine') {
      this.cannotMine(outcome.error);
      // The user may fix it elsewhere (another validator or model restarts the pipeline); ask again now and then.
      await this.sleep(60_000);
    } else if (outcome.kind === 'no-work') {
      this.setStatus('no-work', `The validator has no work right now; asking again in ${Math.ceil(outcome.retryAfterMs / 1000)} s`);
      await this.sleep(outcome.retryAfterMs);
    } else {
      this.setStatus('offline', `The validator is unreachable (${outcome.error}); retrying`);
      await this.sleep(Math.max(1000, outcome.retryAtMs - this.now()));
    }
    return null;
  }

  private lease(): Promise<LeaseOutcome> {
    return this.o.validator
      .lease({
        // Until the speed is known, one batch's worth: the first result (and the first validated
        // tokens a new user sees) should not wait behind a task sized for a fast GPU.
        maxTokens: Math.max(
          64,
          Math.round((this.rate.perSecond() ? this.o.maxBatchTokens() * 4 : this.o.maxBatchTokens()) * (this.o.throttle?.sizeScale() ?? 1)),
        ),
        tokensPerS: this.rate.perSecond() || null,
        gpuClass: this.o.gpuClass(),
      })
      .catch((error) => ({ kind: 'offline' as const, error: errorMessage(error), retryAtMs: this.now() + 5000 }));
  }

  private async work(task: MinerTask): Promise<void> {
    const abort = new AbortController();
    this.taskAbort = abort;
    this.resumeTask = task;
    const startedAtMs = this.now();
    // What the task is doing is read off `task` (minerActivity); this reason shows only until its first progress.
    this.setStatus('mining', 'Starting a task');
    this.publishProgress(task, startedAtMs, 0, 0);
    // Lease the next task now, so the GPU does not wait on the network when this one finishes.
    this.prefetched ??= this.lease();
    let lastDone = 0;
    let lastAtMs = startedAtMs;
    const measured = (tokensDone: number) => {
      this.rate.add(tokensDone - lastDone, lastAtMs);
      lastDone = tokensDone;
      lastAtMs = this.now();
    };
    try {
      const docs = await this.o.teacher.label(task, {
        signal: abort.signal,
        onProgress: ({ tokensDone, tokensTotal }) => {
          measured(tokensDone);
          this.publishProgress(task, startedAtMs, tokensDone, tokensTotal);
        },
      });
      const tokens = docs.reduce((sum, d) => sum + d.tokenCount, 0);
      if (tokens > lastDone) measured(tokens);
      await this.o.validator.submit({ taskId: task.taskId, bundle: encodeResultBundle(docs.map((d) => d.encoded)), tokens });
      this.resumeTask = null;
      this.o.ledger.addComputed(tokens, this.now());
      // Per task at debug: the one-line summary each minute (MiningSummary) is what the log shows.
      this.o.log.debug(`task ${task.taskId}: ${docs.length} documents, ${tokens} tokens queued for the validator`);
      this.o.state.update({ task: null });
      this.setStatus('mining', 'Between tasks');
      this.publishRate();
      this.publishTotals();
      const rest = this.o.throttle?.restAfter(this.now() - startedAtMs);
      if (rest && rest.ms > 0) {
        this.setStatus('mining', rest.reason);
        await this.sleep(rest.ms);
      }
    } catch (error) {
      this.o.state.update({ task: null });
      this.publishRate();
      if (abort.signal.aborted) {
        this.o.log.info(`task ${task.taskId} interrupted; it will run again on resume`);
        return;
      }
      this.resumeTask = null;
      this.o.log.error(`task ${task.taskId} failed: ${errorMessage(error)}`);
      this.setStatus('error', `A task failed: ${errorMessage(error)}`);
      await this.sleep(5000);
    } finally {
      this.taskAbort = null;
    }
  }

  private cannotMine(error: CannotMine): void {
    this.o.log.error(error.message);
    this.setStatus('error', error.message);
    this.o.onCannotMine?.(error);
  }

  private onOutcome(outcome: SubmissionOutcome): void {
    if (outcome.status === 'rejected') {
      this.o.log.warn(`task ${outcome.taskId} rejected by the validator: ${outcome.reason ?? 'no reason given'}`);
    }
    this.o.ledger.addOutcome(outcome, this.now());
    this.publishTotals();
    void this.refreshStats();
  }

  private async refreshStats(): Promise<void> {
    try {
      const stats = await this.o.validator.stats();
      this.o.ledger.setValidatorTotals(stats);
      const earnings = earningsFigures(stats);
      this.o.state.update({ earnings });
      this.refreshAtBoundary(earnings);
      this.publishTotals();
    } catch (error) {
      this.o.log.debug(`stats refresh failed: ${errorMessage(error)}`);
    }
  }

  /** Asks again just after the open epoch ends or a closed one settles, when the figures change meaning. */
  private refreshAtBoundary(earnings: { epochEndsAtMs: number | null; settlesAtMs: number | null }): void {
    if (this.boundaryTimer) clearTimeout(this.boundaryTimer);
    this.boundaryTimer = null;
    const next = [earnings.epochEndsAtMs, earnings.settlesAtMs].filter((t): t is number => t !== null && t > this.now());
    if (!this.running || next.length === 0) return;
    this.boundaryTimer = setTimeout(() => void this.refreshStats(), Math.min(...next) - this.now() + BOUNDARY_SLACK_MS);
    this.boundaryTimer.unref?.();
  }

  private publishProgress(task: MinerTask, startedAtMs: number, tokensDone: number, tokensTotal: number): void {
    // A report that arrives after a pause stopped the task must not bring its card back.
    if (this.o.state.get().miner.status !== 'mining') return;
    const elapsed = this.now() - startedAtMs;
    const etaAtMs = tokensDone > 0 && elapsed > 0 ? this.now() + (elapsed * (tokensTotal - tokensDone)) / tokensDone : null;
    this.o.state.update({
      task: { taskId: task.taskId, documents: task.documents.length, tokensDone, tokensTotal, startedAtMs, etaAtMs },
      tokensPerS: this.rate.perSecond(),
    });
  }

  /** The speed now: the meter's rate while mining, 0 while paused, idle, offline or failed. */
  private publishRate(): void {
    const tokensPerS = this.o.state.get().miner.status === 'mining' ? this.rate.perSecond() : 0;
    if (tokensPerS !== this.o.state.get().tokensPerS) this.o.state.update({ tokensPerS });
  }

  private publishTotals(): void {
    this.o.state.update({ tokens: this.o.ledger.totals(this.now()) });
  }

  private publishMiner(): void {
    const paused = this.pausedReason();
    const miner = this.o.state.get().miner;
    const resuming = miner.status === 'paused' || miner.status === 'waiting-for-idle';
    this.writeStatus(
      paused ? paused.status : resuming ? 'starting' : miner.status,
      paused ? paused.reason : resuming ? 'Resuming' : miner.reason,
    );
  }

  private setStatus(status: MinerStatus, reason: string): void {
    const paused = this.pausedReason();
    this.writeStatus(paused ? paused.status : status, paused ? paused.reason : reason);
  }

  /**
   * The one place the status is written. A miner that is not mining runs no task and has no
   * speed, in the same write: the status line, the task card and "Speed now" cannot disagree.
   */
  private writeStatus(status: MinerStatus, reason: string): void {
    const miner = { status, reason, userPaused: this.userPaused, pausedUntilMs: this.userPausedUntilMs };
    this.o.state.update(status === 'mining' ? { miner } : { miner, task: null, tokensPerS: 0 });
  }

  /** Sleep that a pause, resume or shutdown cuts short. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      // dispose() may have woken the loop while it awaited something else (the teacher stopping for a pause).
      if (!this.running) return resolve();
      const done = () => {
        clearTimeout(timer);
        if (this.wake === done) this.wake = null;
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.wake = done;
    });
  }
}
