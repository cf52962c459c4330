import { Worker } from 'node:worker_threads';
import { runCheckJob, type CheckJob, type CompareAnswer, type CompareJob, type StructureAnswer, type StructureJob } from './result-checks';

/** Runs the byte-heavy checks of submissions (see result-checks.ts). */
export interface ResultChecker {
  structure(job: Omit<StructureJob, 'kind'>): Promise<StructureAnswer>;
  compare(job: Omit<CompareJob, 'kind'>): Promise<CompareAnswer>;
  close(): Promise<void>;
}

/** On the calling thread: the embedded validator of `nya mine` (one miner) and tests. */
export class InlineChecker implements ResultChecker {
  async structure(job: Omit<StructureJob, 'kind'>): Promise<StructureAnswer> {
    return runCheckJob({ kind: 'structure', ...job });
  }

  async compare(job: Omit<CompareJob, 'kind'>): Promise<CompareAnswer> {
    return runCheckJob({ kind: 'compare', ...job });
  }

  async close(): Promise<void> {}
}

export interface CheckRequest {
  id: number;
  job: CheckJob;
}

export type CheckReply = { id: number; answer: StructureAnswer | CompareAnswer } | { id: number; error: string };

interface Pending {
  job: CheckJob;
  resolve: (answer: StructureAnswer | CompareAnswer) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  /** Jobs posted to this worker, oldest first: the first is running, the rest wait in its port. */
  jobs: number[];
  /** When the running job was posted (to pick the worker likely to be free first). */
  since: number;
}

/**
 * Jobs a worker holds at once. With one waiting in its port, a worker starts its next job the
 * moment it answers the last, instead of idling until the event loop has read that answer and
 * posted more: under load the event loop reads an answer tens of milliseconds late.
 */
const JOBS_PER_WORKER = 2;

/** What a job hands over to its worker instead of copying: an upload's pieces (`assemble`). */
function movedBytes(job: CheckJob): ArrayBuffer[] {
  return job.kind === 'structure' && job.pieces ? job.pieces.map((p) => p.bytes) : [];
}

/**
 * Worker threads for the checks, so the event loop of a busy validator only parses HTTP and keeps
 * the books: a 64-document result is ~3.7 MiB of CRC, sampled-row checks, an agreement check
 * against its replica and a file write, tens of milliseconds that would otherwise delay every other
 * request. Bodies arrive in SharedArrayBuffers (`readBody`) and the chunks not yet copied into one
 * are moved with the job, so handing an upload over copies nothing on the event loop.
 * A worker that dies fails the job it was running (the request answers 500 and changes nothing)
 * and any waiting job whose upload was moved to it; it is replaced, and the other jobs that were
 * waiting for it go to its replacement.
 */
export class CheckPool implements ResultChecker {
  private readonly slots: Slot[] = [];
  private readonly queue: number[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly workerPath: string,
    threads: number,
    private readonly onWorkerError: (message: string) => void = () => undefined,
  ) {
    for (let i = 0; i < Math.max(1, threads); i++) this.slots.push(this.spawn());
  }

  get threads(): number {
    return this.slots.length;
  }

  structure(job: Omit<StructureJob, 'kind'>): Promise<StructureAnswer> {
    return this.run({ kind: 'structure', ...job }) as Promise<StructureAnswer>;
  }

  compare(job: Omit<CompareJob, 'kind'>): Promise<CompareAnswer> {
    return this.run({ kind: 'compare', ...job }) as Promise<CompareAnswer>;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.queue.length = 0;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    // Queued or cut off mid-job: either way no answer is coming.
    for (const id of [...this.pending.keys()]) this.settle(id, new Error('the validator is shutting down'));
  }

  private run(job: CheckJob): Promise<StructureAnswer | CompareAnswer> {
    if (this.closed) return Promise.reject(new Error('the check pool is closed'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { job, resolve, reject });
      this.queue.push(id);
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      // An idle worker first, else the one whose running job started earliest.
      let best: Slot | null = null;
      for (const slot of this.slots) {
        if (slot.jobs.length >= JOBS_PER_WORKER) continue;
        if (!best || slot.jobs.length < best.jobs.length || (slot.jobs.length === best.jobs.length && slot.since < best.since)) best = slot;
      }
      if (!best) return;
      const id = this.queue.shift()!;
      if (best.jobs.length === 0) best.since = performance.now();
      best.jobs.push(id);
      const { job } = this.pending.get(id)!;
      const message: CheckRequest = { id, job };
      best.worker.postMessage(message, movedBytes(job));
    }
  }

  private spawn(): Slot {
    const worker = new Worker(this.workerPath);
    const slot: Slot = { worker, jobs: [], since: 0 };
    worker.on('message', (reply: CheckReply) => {
      const at = slot.jobs.indexOf(reply.id);
      if (at >= 0) slot.jobs.splice(at, 1);
      slot.since = performance.now();
      this.settle(reply.id, 'error' in reply ? new Error(reply.error) : reply.answer);
      this.dispatch();
    });
    const lost = (why: string) => {
      if (this.closed) return;
      const index = this.slots.indexOf(slot);
      if (index < 0) return;
      this.onWorkerError(`a check worker stopped (${why}); starting another`);
      // The worker runs its jobs in order: only the first had started; the others go back to the
      // front of the queue for the next worker, unless their bytes were moved to the dead one.
      const [running, ...waiting] = slot.jobs;
      slot.jobs = [];
      const stopped = () => new Error(`the check worker stopped (${why})`);
      if (running !== undefined) this.settle(running, stopped());
      const again = waiting.filter((id) => movedBytes(this.pending.get(id)!.job).length === 0);
      for (const id of waiting) if (!again.includes(id)) this.settle(id, stopped());
      this.queue.unshift(...again);
      this.slots[index] = this.spawn();
      this.dispatch();
    };
    worker.on('error', (error) => lost(error.message));
    worker.on('exit', (code) => lost(`exit code ${code}`));
    worker.unref();
    return slot;
  }

  private settle(id: number, outcome: StructureAnswer | CompareAnswer | Error): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    if (outcome instanceof Error) p.reject(outcome);
    else p.resolve(outcome);
  }
}
