import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, Worker } from 'node:worker_threads';
import { DEFAULT_K, DEFAULT_SEQ_LEN, LeaseResponse } from '../../../src-shared/protocol';
import { BundleFactory } from './bundle-factory';
import { fakeTokenizer } from './fake-teacher';

/** Simulated miners share a few "GPU models", each with its own small jitter. */
export const GPU_MODELS = 4;
const TASK_ID_BYTES = 26;
const DOC_ID_BYTES = 47;

interface BuildRequest {
  id: number;
  model: number;
  /** The validator's lease answer as it came off the wire (JSON). */
  leaseAnswer: Uint8Array;
  /** The miner's previous buffer, reused when large enough. */
  buffer: SharedArrayBuffer | null;
}

export interface BuiltBundle {
  taskId: string;
  tokens: number;
  buffer: SharedArrayBuffer;
  length: number;
  sha256Hex: string;
}

/** The benchmark's distinct document texts: DEFAULT_SEQ_LEN - 1 words, a full sequence each. */
function benchTexts(): string[] {
  return Array.from({ length: 16 }, (_, t) =>
    Array.from({ length: DEFAULT_SEQ_LEN - 1 }, (_, w) => `w${(w * 7919 + t * 104729) % 5003}`).join(' '),
  );
}

/** `count` bench documents from number `offset` on: ids and URLs unique, texts from `benchTexts`. */
export function benchDocuments(count: number, offset: number): { docId: string; url: string; text: string }[] {
  const texts = benchTexts();
  return Array.from({ length: count }, (_, i) => {
    const n = offset + i;
    return { docId: `<urn:uuid:${n.toString(16).padStart(36, '0')}>`, url: `https://bench.invalid/${n}`, text: texts[n % texts.length]! };
  });
}

function factories(modelHash: string): BundleFactory[] {
  const tokenizer = fakeTokenizer();
  return Array.from({ length: GPU_MODELS }, (_, g) => {
    const factory = new BundleFactory(tokenizer, modelHash, g + 1);
    for (const text of benchTexts()) factory.prepare(text, DEFAULT_K, DEFAULT_SEQ_LEN, TASK_ID_BYTES, DOC_ID_BYTES);
    return factory;
  });
}

/**
 * The body of the bundler thread: parses a lease answer (0.4 MiB of JSON for 64 documents) and
 * builds its bundle (copy, CRCs, SHA-256: ~4 ms of CPU for 64 documents) into a
 * SharedArrayBuffer, so the simulated miners' event loop only sends and receives, and their
 * latency figures include neither one another's bundle building nor the garbage of parsed texts.
 * Real miners do all of this on their own machines.
 */
export function runBundlerThread(modelHash: string): void {
  yieldToOtherThreads();
  const port = parentPort!;
  const made = factories(modelHash);
  port.on('message', ({ id, model, leaseAnswer, buffer }: BuildRequest) => {
    const text = Buffer.from(leaseAnswer.buffer, leaseAnswer.byteOffset, leaseAnswer.length).toString('utf8');
    const parsed = LeaseResponse.safeParse(safeJson(text));
    if (!parsed.success)
      return port.postMessage({ id, error: `the validator's lease answer is not a LeaseResponse: ${text.slice(0, 200)}` });
    const answer = parsed.data;
    if (answer.kind !== 'task') return port.postMessage({ id, built: null });
    const { task } = answer;
    const reuse: { buffer?: Buffer; alloc: (n: number) => Buffer } = {
      buffer: buffer ? Buffer.from(buffer) : undefined,
      alloc: (n) => Buffer.from(new SharedArrayBuffer(n)),
    };
    const { body, sha256Hex } = made[model]!.bundle(task, reuse);
    const built: BuiltBundle = {
      taskId: task.taskId,
      tokens: task.tokens ?? 0,
      buffer: reuse.buffer!.buffer as SharedArrayBuffer,
      length: body.length,
      sha256Hex,
    };
    port.postMessage({ id, built });
  });
  port.postMessage({ ready: true });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * This thread stands for the miners' GPUs, which never share a CPU with a real validator: on
 * Linux it runs at the lowest priority (setpriority on a thread id affects that thread only), so
 * on a shared machine it takes what the validator and the miners' network side leave. Elsewhere
 * it runs as it is.
 */
function yieldToOtherThreads(): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, 19);
  } catch {
    // No /proc/thread-self (not Linux) or not permitted: same priority as the rest.
  }
}

/** The simulators' side of the bundler thread. */
export class Bundler {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve: (built: BuiltBundle | null) => void; reject: (error: Error) => void }>();
  private nextId = 1;
  readonly ready: Promise<void>;

  /** `script` and `argv` start this same program in the thread's role (see validator-bench.ts). */
  constructor(script: string, argv: string[], modelHash: string) {
    this.worker = new Worker(script, { argv, workerData: { modelHash } });
    this.ready = new Promise((resolve, reject) => {
      this.worker.on('message', (m: { ready?: true; id?: number; built?: BuiltBundle | null; error?: string }) => {
        if (m.ready) return resolve();
        const done = this.waiting.get(m.id!);
        this.waiting.delete(m.id!);
        if (m.error !== undefined) done?.reject(new Error(m.error));
        else done?.resolve(m.built ?? null);
      });
      this.worker.once('error', reject);
    });
  }

  /** The bundle answering a lease answer, or null when the answer is "no work"; rejects for an answer that is not a LeaseResponse. */
  build(model: number, leaseAnswer: Uint8Array, buffer: SharedArrayBuffer | null): Promise<BuiltBundle | null> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ id, model, leaseAnswer, buffer } satisfies BuildRequest);
    });
  }

  close(): Promise<number> {
    return this.worker.terminate();
  }
}
