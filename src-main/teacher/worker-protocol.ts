import { z } from 'zod';
import { ExecutionProviderChoice, LogLevel } from '../../src-shared/state';

/**
 * The messages between TeacherHost (main process) and the teacher worker process. Every request
 * carries a `seq`; every answer names the `seq` it answers. Both sides parse what they receive:
 * a process boundary is a trust boundary for bugs, if not for attackers. The transport
 * (child_process IPC with `serialization: 'advanced'`, or Electron's utilityProcess) keeps
 * Uint8Array intact.
 */
const Seq = z.number().int().nonnegative();

/** How often the worker reports its CPU time and memory. */
export const USAGE_INTERVAL_MS = 2000;

const LabelTaskMessage = z.object({
  taskId: z.string(),
  k: z.number().int().min(1).max(64),
  seqLen: z.number().int().min(1),
  documents: z.array(z.object({ docId: z.string(), text: z.string() })),
});

export const HostToWorker = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('load'),
    seq: Seq,
    modelDir: z.string(),
    cacheDir: z.string(),
    provider: ExecutionProviderChoice,
    gpuDeviceId: z.number().int().min(0),
    intraOpThreads: z.number().int().positive().optional(),
  }),
  z.object({ type: z.literal('label'), seq: Seq, task: LabelTaskMessage, maxBatchTokens: z.number().int().positive() }),
  /** Stop the label request `seq` at the next batch boundary. */
  z.object({ type: z.literal('cancel'), seq: Seq }),
  z.object({ type: z.literal('shutdown') }),
]);
export type HostToWorker = z.infer<typeof HostToWorker>;

export const LoadedModel = z.object({
  modelName: z.string(),
  modelHash: z.string(),
  isDemo: z.boolean(),
  executionProvider: z.string(),
  providerReason: z.string(),
  tokenizerSource: z.string(),
  fullLogitsBytesPerPosition: z.number(),
});
export type LoadedModel = z.infer<typeof LoadedModel>;

const LabelStatsMessage = z.object({
  wallMs: z.number(),
  forwardMs: z.number(),
  hostBytes: z.number(),
  positions: z.number(),
  paddedPositions: z.number(),
  batches: z.number(),
  maxBatchTokens: z.number(),
});

export const WorkerErrorCode = z.enum(['model', 'oom', 'cancelled', 'bad-request', 'internal']);
export type WorkerErrorCode = z.infer<typeof WorkerErrorCode>;

export const WorkerToHost = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('loaded'), seq: Seq, model: LoadedModel }),
  z.object({ type: z.literal('progress'), seq: Seq, tokensDone: z.number(), tokensTotal: z.number() }),
  /** An out-of-memory made the worker shrink its batch budget; the host keeps the new one. */
  z.object({ type: z.literal('batch-tokens'), seq: Seq, maxBatchTokens: z.number().int().positive(), reason: z.string() }),
  /**
   * Records of one batch, sent while the next batch runs: the hand-off overlaps the device's work
   * instead of following the task as one large message.
   */
  z.object({
    type: z.literal('labelled-docs'),
    seq: Seq,
    docs: z.array(
      z.object({
        index: z.number().int().nonnegative(),
        docId: z.string(),
        tokenCount: z.number().int(),
        encoded: z.custom<Uint8Array>((v) => v instanceof Uint8Array, 'expected bytes'),
      }),
    ),
  }),
  /** The task is done: every document was in a `labelled-docs` message before this one. */
  z.object({ type: z.literal('labelled'), seq: Seq, stats: LabelStatsMessage }),
  z.object({ type: z.literal('failed'), seq: Seq, code: WorkerErrorCode, message: z.string() }),
  z.object({ type: z.literal('log'), level: LogLevel, message: z.string() }),
  /** The worker's own CPU time and memory, every few seconds while it lives (the host makes a rate of it). */
  z.object({ type: z.literal('usage'), atMs: z.number(), rssBytes: z.number(), maxRssBytes: z.number(), cpuUs: z.number() }),
]);
export type WorkerToHost = z.infer<typeof WorkerToHost>;

/**
 * How the host starts a worker process. `forkLauncher` (child_process.fork) serves headless mode
 * and tests; the Electron shell supplies one over `utilityProcess.fork` with the same shape.
 */
export interface WorkerHandle {
  send(message: HostToWorker): void;
  onMessage(listener: (message: unknown) => void): void;
  onExit(listener: (exit: { code: number | null; signal: string | null }) => void): void;
  /** Ends the process now (SIGKILL where there is one). */
  kill(): void;
}

export interface WorkerLauncher {
  launch(entryPath: string, env: Record<string, string>): WorkerHandle;
}
