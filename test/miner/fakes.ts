import { Emitter } from '../../src-node/event';
import type {
  LabelledDocument,
  LeaseOutcome,
  MinerStats,
  MinerTask,
  SubmissionOutcome,
  TeacherInfo,
  TeacherPort,
  ValidatorPort,
} from '../../src-main/miner/ports';

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** The events both fakes append to, so a test can assert the order the miner talked in. */
export type Event = { kind: 'lease'; n: number } | { kind: 'label'; taskId: string } | { kind: 'submit'; taskId: string };

export function task(taskId: string, o: { deadlineAtMs?: number; tokensPerDoc?: number; docs?: number } = {}): MinerTask {
  return {
    taskId,
    k: 4,
    seqLen: 16,
    modelHash: 'hash',
    deadlineAtMs: o.deadlineAtMs ?? Date.now() + 3_600_000,
    documents: Array.from({ length: o.docs ?? 2 }, (_, i) => ({ docId: `${taskId}-d${i}`, text: 'x'.repeat(o.tokensPerDoc ?? 50) })),
  };
}

/** One `label` call the test holds open: it finishes, fails or sees the miner's abort. */
export interface LabelCall {
  taskId: string;
  signal: AbortSignal | undefined;
  progress(tokensDone: number, tokensTotal: number): void;
  /** Finishes the task with one document per input document, `tokensPerDoc` tokens each. */
  finish(tokensPerDoc?: number): void;
  fail(error: Error): void;
  result: Promise<LabelledDocument[]>;
}

/**
 * A teacher that labels only when the test says so. Like the real host it rejects a `label` whose
 * signal aborts, and `start` can be made to fail a given number of times (a model that will not load).
 */
export class FakeTeacher implements TeacherPort {
  readonly labels: LabelCall[] = [];
  starts = 0;
  stops = 0;
  disposed = false;
  failStarts = 0;
  private waiters: { count: number; resolve: (call: LabelCall) => void }[] = [];

  constructor(private readonly events: Event[] = []) {}

  async start(): Promise<TeacherInfo> {
    this.starts++;
    if (this.failStarts > 0) {
      this.failStarts--;
      throw new Error('model.onnx is truncated');
    }
    return { modelName: 'tiny', modelHash: 'hash', isDemo: true, executionProvider: 'cpu', providerReason: 'test' };
  }

  label(
    t: { taskId: string; documents: { docId: string }[] },
    opts?: { signal?: AbortSignal; onProgress?: (p: { tokensDone: number; tokensTotal: number }) => void },
  ): Promise<LabelledDocument[]> {
    this.events.push({ kind: 'label', taskId: t.taskId });
    const done = deferred<LabelledDocument[]>();
    const signal = opts?.signal;
    signal?.addEventListener('abort', () => done.reject(new Error('aborted')), { once: true });
    const call: LabelCall = {
      taskId: t.taskId,
      signal,
      progress: (tokensDone, tokensTotal) => opts?.onProgress?.({ tokensDone, tokensTotal }),
      finish: (tokensPerDoc = 50) =>
        done.resolve(t.documents.map((d) => ({ docId: d.docId, tokenCount: tokensPerDoc, encoded: new Uint8Array([1, 2, 3]) }))),
      fail: (error) => done.reject(error),
      result: done.promise,
    };
    done.promise.catch(() => undefined);
    this.labels.push(call);
    for (const w of this.waiters.filter((w) => this.labels.length >= w.count)) w.resolve(this.labels[w.count - 1]!);
    this.waiters = this.waiters.filter((w) => this.labels.length < w.count);
    return done.promise;
  }

  /** Resolves with the `n`th label call (1-based) once the miner has made it. */
  nthLabel(n: number): Promise<LabelCall> {
    if (this.labels.length >= n) return Promise.resolve(this.labels[n - 1]!);
    return new Promise((resolve) => this.waiters.push({ count: n, resolve }));
  }

  async stop(): Promise<void> {
    this.stops++;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
  }
}

/**
 * A validator that answers leases from a queue the test fills (a lease with nothing queued waits
 * until the test queues one), records submissions, and sends outcomes when told to.
 */
export class FakeValidator implements ValidatorPort {
  readonly leases: { maxTokens: number; tokensPerS: number | null; gpuClass: string | null }[] = [];
  readonly submissions: { taskId: string; bundle: Uint8Array; tokens: number }[] = [];
  readonly state = { connection: 'online' as const, lastError: null, retryAtMs: null, outboxPending: 0 };
  statsCalls = 0;
  statsAnswer: MinerStats | null = null;
  private readonly queued: LeaseOutcome[] = [];
  private readonly waiting: Deferred<LeaseOutcome>[] = [];
  private readonly changed = new Emitter<void>();
  private readonly outcomes = new Emitter<SubmissionOutcome>();

  constructor(private readonly events: Event[] = []) {}

  queue(...outcomes: LeaseOutcome[]): void {
    for (const outcome of outcomes) {
      const waiter = this.waiting.shift();
      if (waiter) waiter.resolve(outcome);
      else this.queued.push(outcome);
    }
  }

  /**
   * Answers every lease still waiting (with a task the miner has no time left to start). The
   * miner passes no signal to `lease`, so its dispose waits for a lease in flight, as it would for
   * the real client's request to end.
   */
  answerWaiting(): void {
    for (const waiter of this.waiting.splice(0)) waiter.resolve({ kind: 'task', task: task('late') });
  }

  queueTasks(...tasks: MinerTask[]): void {
    this.queue(...tasks.map((t) => ({ kind: 'task' as const, task: t })));
  }

  async start(): Promise<void> {}
  async dispose(): Promise<void> {}

  lease(req: { maxTokens: number; tokensPerS: number | null; gpuClass: string | null }): Promise<LeaseOutcome> {
    this.leases.push(req);
    this.events.push({ kind: 'lease', n: this.leases.length });
    const next = this.queued.shift();
    if (next) return Promise.resolve(next);
    const waiter = deferred<LeaseOutcome>();
    this.waiting.push(waiter);
    return waiter.promise;
  }

  async submit(result: { taskId: string; bundle: Uint8Array; tokens: number }): Promise<void> {
    this.events.push({ kind: 'submit', taskId: result.taskId });
    this.submissions.push(result);
  }

  get onChange() {
    return this.changed.event;
  }

  get onOutcome() {
    return this.outcomes.event;
  }

  emitOutcome(outcome: SubmissionOutcome): void {
    this.outcomes.fire(outcome);
  }

  /** Which of its events someone listens to. */
  get listened(): { change: boolean; outcome: boolean } {
    return { change: this.changed.hasListeners, outcome: this.outcomes.hasListeners };
  }

  /** Unreachable until the test sets figures: the miner then keeps its own tally. */
  async stats(): Promise<MinerStats> {
    this.statsCalls++;
    if (!this.statsAnswer) throw new Error('stats unavailable');
    return this.statsAnswer;
  }
}
