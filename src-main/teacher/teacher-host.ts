import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutionProviderChoice, ProcessUsage } from '../../src-shared/state';
import { UsageMeter } from '../resources/process-usage';
import { distPath } from '../../src-node/app-paths';
import { defaultDataDir } from '../../src-node/data-dir';
import { silentLogger, type Logger } from '../../src-node/log';
import { CannotMine } from '../miner/cannot-mine';
import type { LabelledDocument, TeacherInfo, TeacherPort } from '../miner/ports';
import { forkLauncher } from './fork-launcher';
import type { LabelStats, LabelTask } from './labeller';
import {
  WorkerToHost,
  type HostToWorker,
  type LoadedModel,
  type WorkerErrorCode,
  type WorkerHandle,
  type WorkerLauncher,
} from './worker-protocol';

export interface TeacherHostOptions {
  /** forkLauncher (child_process) unless the Electron shell passes its utilityProcess one. */
  launcher?: WorkerLauncher;
  /** Where extended graphs are cached; `<data dir>/teacher-cache` by default. */
  cacheDir?: string;
  /** The bundled worker; dist/main/teacher-worker.cjs by default. */
  workerPath?: string;
  /** null or unset: the bundled demo model (dist/models/demo). */
  modelDir?: string | null;
  executionProvider?: ExecutionProviderChoice;
  gpuDeviceId?: number;
  maxBatchTokens?: number;
  intraOpThreads?: number;
  log?: Logger;
  /** Waits before restarting a crashed worker, by consecutive crash (the last repeats). */
  restartDelaysMs?: number[];
  /** How long a cancelled run may take to stop at a batch boundary before the worker is killed. */
  cancelGraceMs?: number;
  /** How long a worker asked to shut down may take before it is killed. */
  shutdownGraceMs?: number;
  /** The worker's CPU and memory every few seconds while it runs; null once it has exited. */
  onUsage?: (usage: ProcessUsage | null) => void;
}

/** The worker answered with an error: `code` says whether a retry, a smaller task or a new model helps. */
class TeacherError extends Error {
  override readonly name = 'TeacherError';
  constructor(
    readonly code: WorkerErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export class TeacherWorkerExitedError extends Error {
  override readonly name = 'TeacherWorkerExitedError';
}

interface Pending {
  onMessage(message: WorkerToHost): void;
  onExit(error: Error): void;
}

interface Worker {
  handle: WorkerHandle;
  pending: Map<number, Pending>;
  exited: Promise<void>;
  /** stop() asked it to exit: its requests end as stopped, not as a crash to retry. */
  stopping: boolean;
}

function abortReason(signal: AbortSignal): Error {
  if (signal.reason instanceof Error) return signal.reason;
  const error = new Error('labelling was cancelled');
  error.name = 'AbortError';
  return error;
}

/** `promise`, or a rejection as soon as `signal` aborts (the work itself goes on). */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The main-process face of the teacher: owns the worker process, restarts it with backoff when it
 * dies and re-runs the task once, remembers a batch budget shrunk by out-of-memory, and answers a
 * pause within the grace period (cancel at the next batch boundary, else kill). Satisfies the
 * miner's TeacherPort.
 */
export class TeacherHost implements TeacherPort {
  private worker: Worker | null = null;
  private loaded: LoadedModel | null = null;
  private starting: Promise<TeacherInfo> | null = null;
  private seq = 0;
  private consecutiveCrashes = 0;
  /** Resolves when the worker has no request in flight (a cancelled run may still be finishing). */
  private idle: Promise<void> = Promise.resolve();
  private disposed = false;
  /** Settles when the last caller of `label` so far is done with the worker. */
  private lastTurn: Promise<void> = Promise.resolve();
  private batchTokens: number;
  private readonly log: Logger;
  /** Figures of the last finished task, for the benchmark and the log. */
  lastStats: LabelStats | null = null;

  constructor(private readonly o: TeacherHostOptions) {
    this.batchTokens = o.maxBatchTokens ?? 4096;
    this.log = o.log ?? silentLogger;
  }

  /** The loaded model, with what the worker measured about it; null until start() succeeds. */
  get model(): LoadedModel | null {
    return this.loaded;
  }

  get maxBatchTokens(): number {
    return this.batchTokens;
  }

  start(): Promise<TeacherInfo> {
    if (this.loaded && this.worker) return Promise.resolve(toInfo(this.loaded));
    this.starting ??= this.launchAndLoad().finally(() => {
      this.starting = null;
    });
    return this.starting;
  }

  async label(
    task: LabelTask,
    opts: { signal?: AbortSignal; onProgress?: (p: { tokensDone: number; tokensTotal: number }) => void } = {},
  ): Promise<LabelledDocument[]> {
    // The worker runs one request at a time and refuses a second ("still running"): callers that
    // overlap (the validator's audits and re-checks) take turns, in the order they called.
    const before = this.lastTurn;
    let release!: () => void;
    this.lastTurn = new Promise<void>((done) => (release = done));
    try {
      await abortable(before, opts.signal);
    } catch (error) {
      // Given up while waiting: the turn passes on when the caller before it is done.
      void before.then(release);
      throw error;
    }
    try {
      return await this.labelInTurn(task, opts);
    } finally {
      release();
    }
  }

  private async labelInTurn(
    task: LabelTask,
    opts: { signal?: AbortSignal; onProgress?: (p: { tokensDone: number; tokensTotal: number }) => void },
  ): Promise<LabelledDocument[]> {
    let retried = false;
    for (;;) {
      if (this.disposed) throw new TeacherError('cancelled', 'the teacher was stopped');
      try {
        await abortable(this.idle, opts.signal);
        await abortable(this.start(), opts.signal);
        // A process that died mid-task may have died of a native out-of-memory abort, which no
        // error message reports: the one retry runs with half the batch budget.
        const docs = await this.runLabel(task, opts, retried ? Math.max(1, Math.floor(this.batchTokens / 2)) : this.batchTokens);
        this.consecutiveCrashes = 0;
        return docs;
      } catch (error) {
        if (!(error instanceof TeacherWorkerExitedError) || opts.signal?.aborted) throw error;
        if (retried) throw new TeacherWorkerExitedError(`${error.message} again while labelling task ${task.taskId}; giving up on it`);
        retried = true;
        const delays = this.o.restartDelaysMs ?? [500, 2000, 8000];
        const delay = delays[Math.min(this.consecutiveCrashes, delays.length - 1)]!;
        this.consecutiveCrashes++;
        this.log.warn(`${error.message} during task ${task.taskId}; restarting it in ${delay} ms and running the task again`);
        await sleep(delay);
      }
    }
  }

  /** Releases the GPU: the worker exits (killed if it does not within the grace period). */
  async stop(): Promise<void> {
    const worker = this.worker;
    this.loaded = null;
    if (!worker) return;
    worker.stopping = true;
    worker.handle.send({ type: 'shutdown' });
    const timer = setTimeout(() => worker.handle.kill(), this.o.shutdownGraceMs ?? 3000);
    await worker.exited;
    clearTimeout(timer);
  }

  /** Stops for good: calls still waiting for their turn end as stopped instead of starting a new worker. */
  async dispose(): Promise<void> {
    this.disposed = true;
    await this.stop();
  }

  private async launchAndLoad(): Promise<TeacherInfo> {
    const worker = this.worker ?? this.spawn();
    const modelDir = this.o.modelDir ?? distPath('models', 'demo');
    const reply = await this.request(worker, (seq) => ({
      type: 'load',
      seq,
      modelDir,
      cacheDir: this.o.cacheDir ?? defaultTeacherCacheDir(),
      provider: this.o.executionProvider ?? 'auto',
      gpuDeviceId: this.o.gpuDeviceId ?? 0,
      ...(this.o.intraOpThreads ? { intraOpThreads: this.o.intraOpThreads } : {}),
    })).done.catch((error: unknown) => {
      // Passed the folder check, yet ONNX Runtime or the tokenizer refuses it: loading again will not help.
      if (error instanceof TeacherError && error.code === 'model') {
        throw new CannotMine('model-unusable', `The model in ${modelDir} cannot be loaded: ${error.message}`);
      }
      throw error;
    });
    if (reply.type !== 'loaded') throw new Error(`unexpected answer '${reply.type}' to load`);
    this.loaded = reply.model;
    // The miner reports the teacher once ("teacher ready"); this detail is for debugging.
    this.log.debug(
      `teacher loaded ${reply.model.modelName}${reply.model.isDemo ? ' (demo model)' : ''} on ${reply.model.executionProvider}: ${reply.model.providerReason}`,
    );
    return toInfo(reply.model);
  }

  private spawn(): Worker {
    const entry = this.o.workerPath ?? distPath('main', 'teacher-worker.cjs');
    if (!existsSync(entry)) throw new TeacherError('internal', `the teacher worker ${entry} is missing; build the app (npm run build).`);
    const handle = (this.o.launcher ?? forkLauncher).launch(entry, {});
    const usage = new UsageMeter();
    let exited!: () => void;
    const worker: Worker = { handle, pending: new Map(), exited: new Promise((resolve) => (exited = resolve)), stopping: false };
    handle.onMessage((raw) => {
      const parsed = WorkerToHost.safeParse(raw);
      if (!parsed.success) {
        this.log.error(`teacher worker sent a malformed message: ${parsed.error.message}`);
        return;
      }
      const message = parsed.data;
      if (message.type === 'log') this.log[message.level](message.message);
      else if (message.type === 'usage') this.o.onUsage?.(usage.add(message));
      else if (message.type !== 'ready') worker.pending.get(message.seq)?.onMessage(message);
    });
    handle.onExit(({ code, signal }) => {
      if (this.worker === worker) {
        this.worker = null;
        this.loaded = null;
      }
      const error = worker.stopping
        ? new TeacherError('cancelled', 'the teacher was stopped')
        : new TeacherWorkerExitedError(`the teacher worker exited (${signal ? `signal ${signal}` : `code ${code}`})`);
      for (const pending of worker.pending.values()) pending.onExit(error);
      worker.pending.clear();
      this.o.onUsage?.(null);
      exited();
    });
    this.worker = worker;
    return worker;
  }

  /** One request → its final answer (progress and batch-tokens messages go to `onUpdate`). */
  private request(
    worker: Worker,
    make: (seq: number) => HostToWorker,
    onUpdate?: (message: WorkerToHost) => void,
  ): { seq: number; done: Promise<WorkerToHost> } {
    const seq = ++this.seq;
    const done = new Promise<WorkerToHost>((resolve, reject) => {
      worker.pending.set(seq, {
        onMessage: (message) => {
          if (message.type === 'progress' || message.type === 'batch-tokens' || message.type === 'labelled-docs')
            return onUpdate?.(message);
          worker.pending.delete(seq);
          if (message.type === 'failed') reject(new TeacherError(message.code, message.message));
          else resolve(message);
        },
        onExit: reject,
      });
      worker.handle.send(make(seq));
    });
    return { seq, done };
  }

  private async runLabel(
    task: LabelTask,
    opts: { signal?: AbortSignal; onProgress?: (p: { tokensDone: number; tokensTotal: number }) => void },
    maxBatchTokens: number,
  ): Promise<LabelledDocument[]> {
    const worker = this.worker;
    if (!worker) throw new TeacherWorkerExitedError('the teacher worker is not running');
    const plain = {
      taskId: task.taskId,
      k: task.k,
      seqLen: task.seqLen,
      documents: task.documents.map((d) => ({ docId: d.docId, text: d.text })),
    };
    const received = new Map<number, LabelledDocument>();
    const req = this.request(
      worker,
      (seq) => ({ type: 'label', seq, task: plain, maxBatchTokens }),
      (message) => {
        if (message.type === 'labelled-docs') {
          for (const { index, docId, tokenCount, encoded } of message.docs) received.set(index, { docId, tokenCount, encoded });
        } else if (message.type === 'progress') {
          opts.onProgress?.({ tokensDone: message.tokensDone, tokensTotal: message.tokensTotal });
        } else if (message.type === 'batch-tokens') {
          this.batchTokens = message.maxBatchTokens;
          this.log.warn(`out of GPU memory; batches now hold at most ${message.maxBatchTokens} tokens (${message.reason})`);
        }
      },
    );
    const settled = req.done.then(
      () => undefined,
      () => undefined,
    );
    this.idle = settled;
    const reply = await new Promise<WorkerToHost>((resolve, reject) => {
      const signal = opts.signal;
      const onAbort = () => {
        worker.handle.send({ type: 'cancel', seq: req.seq });
        // A forward pass cannot be interrupted; if the worker does not reach a batch boundary in
        // time, it is killed and the next task starts a fresh one.
        const grace = setTimeout(() => {
          this.log.warn('the teacher did not stop within the grace period; killing its worker');
          worker.handle.kill();
        }, this.o.cancelGraceMs ?? 1000);
        this.idle = settled.then(() => clearTimeout(grace));
        reject(abortReason(signal!));
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      req.done.then(resolve, reject).finally(() => signal?.removeEventListener('abort', onAbort));
    });
    if (reply.type !== 'labelled') throw new Error(`unexpected answer '${reply.type}' to label`);
    this.lastStats = reply.stats;
    return task.documents.map((d, index) => {
      const doc = received.get(index);
      if (doc?.docId !== d.docId)
        throw new TeacherError('internal', `the teacher finished task ${task.taskId} without labels for document ${d.docId}`);
      return doc;
    });
  }
}

/** Extended graphs are rebuilt on demand, so any writable folder will do; this one survives restarts. */
export function defaultTeacherCacheDir(): string {
  return join(defaultDataDir(), 'teacher-cache');
}

function toInfo(model: LoadedModel): TeacherInfo {
  return {
    modelName: model.modelName,
    modelHash: model.modelHash,
    isDemo: model.isDemo,
    executionProvider: model.executionProvider,
    providerReason: model.providerReason,
  };
}
