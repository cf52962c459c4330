import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeSoftLabels } from '../../src-node/soft-labels';
import { LogHub } from '../../src-node/log';
import { forkLauncher, TeacherHost, TeacherWorkerExitedError, type WorkerHandle, type WorkerLauncher } from '../../src-main/teacher';
import { bundleWorker, sampleDocuments, tempDemoModel } from './fixtures';

let workerPath: string;
let root: string;
let modelDir: string;

beforeAll(async () => {
  workerPath = await bundleWorker('host');
  ({ root, modelDir } = tempDemoModel('nya-host-'));
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(workerPath, { force: true });
});

/** forkLauncher, recording every worker it starts, with a hook on each one's messages. */
function spyLauncher(onMessage: (message: { type?: string }, handle: WorkerHandle, index: number) => void = () => {}) {
  const handles: WorkerHandle[] = [];
  const budgets: number[] = [];
  const launcher: WorkerLauncher = {
    launch(entry, env) {
      const real = forkLauncher.launch(entry, env);
      const handle: WorkerHandle = {
        ...real,
        send(message) {
          if (message.type === 'label') budgets.push(message.maxBatchTokens);
          real.send(message);
        },
      };
      const index = handles.push(handle) - 1;
      real.onMessage((m) => onMessage(m as { type?: string }, handle, index));
      return handle;
    },
  };
  return { launcher, handles, budgets };
}

function host(launcher: WorkerLauncher, extra: Partial<ConstructorParameters<typeof TeacherHost>[0]> = {}) {
  const hub = new LogHub();
  const lines: string[] = [];
  hub.attach((r) => lines.push(`${r.level}: ${r.message}`));
  const teacher = new TeacherHost({
    launcher,
    workerPath,
    modelDir,
    cacheDir: join(root, 'cache'),
    executionProvider: 'cpu',
    maxBatchTokens: 96,
    intraOpThreads: 1,
    restartDelaysMs: [50],
    log: hub.logger('teacher'),
    ...extra,
  });
  return { teacher, lines };
}

const task = (taskId: string, count = 8) => ({ taskId, k: 16, seqLen: 1024, documents: sampleDocuments(count) });

describe('TeacherHost with a real worker process', () => {
  let clean: Uint8Array[];
  let cleanHash: string;

  it('loads the demo model, says so, and labels every document of a task', async () => {
    const { teacher } = host(forkLauncher);
    try {
      const info = await teacher.start();
      expect(info.isDemo).toBe(true);
      expect(info.executionProvider).toBe('CPU');
      expect(info.providerReason).toBe('CPU chosen in settings');
      const progress: number[] = [];
      const docs = await teacher.label(task('t-clean'), { onProgress: (p) => progress.push(p.tokensDone) });
      expect(docs.map((d) => d.docId)).toEqual(task('t-clean').documents.map((d) => d.docId));
      expect(progress.length).toBeGreaterThan(1);
      for (const doc of docs) {
        const labels = decodeSoftLabels(doc.encoded);
        expect(labels.header).toMatchObject({
          taskId: 't-clean',
          docId: doc.docId,
          modelHash: info.modelHash,
          k: 16,
          positions: doc.tokenCount,
        });
      }
      clean = docs.map((d) => d.encoded);
      cleanHash = info.modelHash;
    } finally {
      await teacher.dispose();
    }
  });

  it('restarts a killed worker and re-runs the task: nothing lost, labels identical', async () => {
    let killed = false;
    const { launcher, handles, budgets } = spyLauncher((message, handle, index) => {
      if (index === 0 && message.type === 'progress' && !killed) {
        killed = true;
        handle.kill();
      }
    });
    const { teacher, lines } = host(launcher);
    try {
      const docs = await teacher.label(task('t-clean'));
      expect(killed).toBe(true);
      expect(handles).toHaveLength(2);
      // The retry runs with half the budget, in case the death was a native out-of-memory.
      expect(budgets).toEqual([96, 48]);
      expect(docs.map((d) => d.encoded)).toEqual(clean);
      expect((await teacher.start()).modelHash).toBe(cleanHash);
      expect(lines.some((l) => /exited \(signal SIGKILL\) during task t-clean; restarting/.test(l))).toBe(true);
    } finally {
      await teacher.dispose();
    }
  });

  it('gives up after one retry when the worker dies again', async () => {
    const { launcher, handles } = spyLauncher((message, handle) => {
      if (message.type === 'progress') handle.kill();
    });
    const { teacher } = host(launcher);
    try {
      await expect(teacher.label(task('t-doomed'))).rejects.toThrow(TeacherWorkerExitedError);
      expect(handles).toHaveLength(2);
    } finally {
      await teacher.dispose();
    }
  });

  it('ends a running task as stopped, without a retry, when the teacher is stopped', async () => {
    const { launcher, handles } = spyLauncher();
    const { teacher } = host(launcher);
    let stopping: Promise<void> | null = null;
    const running = teacher.label(task('t-stop'), { onProgress: () => (stopping ??= teacher.stop()) });
    await expect(running).rejects.toThrow('the teacher was stopped');
    await stopping;
    expect(handles).toHaveLength(1);
  });

  it('cancels within one second on abort and labels the next task', async () => {
    const controller = new AbortController();
    const { teacher } = host(forkLauncher, { maxBatchTokens: 64 });
    try {
      await teacher.start();
      let abortedAt = 0;
      const running = teacher.label(task('t-paused', 16), {
        signal: controller.signal,
        onProgress: () => {
          if (!abortedAt) {
            abortedAt = performance.now();
            controller.abort();
          }
        },
      });
      await expect(running).rejects.toThrow(/cancel|abort/i);
      expect(performance.now() - abortedAt).toBeLessThan(1000);
      const docs = await teacher.label(task('t-next', 3));
      expect(docs).toHaveLength(3);
    } finally {
      await teacher.dispose();
    }
  });
});

describe('TeacherHost when CUDA cannot load', () => {
  it("keeps ONNX Runtime's raw line at debug and says in words why the GPU is not used", async () => {
    const { teacher, lines } = host(forkLauncher, { executionProvider: 'auto' });
    try {
      const info = await teacher.start();
      // A machine where CUDA works has nothing to say here.
      if (info.executionProvider !== 'CPU' || process.platform !== 'linux' || process.arch !== 'x64') return;
      expect(info.providerReason).toMatch(/^the GPU is not used: .*CUDA 12.*cuDNN 9.*; using CPU$/);
      expect(lines.filter((l) => !l.startsWith('debug:') && /OrtSessionOptions/.test(l))).toEqual([]);
      expect(lines.some((l) => l.startsWith('debug:') && /OrtSessionOptions/.test(l))).toBe(true);
    } finally {
      await teacher.dispose();
    }
  });
});

describe('TeacherHost without its worker bundle', () => {
  it('says what is missing instead of reporting a crashed process', async () => {
    const { teacher } = host(forkLauncher, { workerPath: join(root, 'no-such-worker.cjs') });
    await expect(teacher.start()).rejects.toThrow(/no-such-worker\.cjs is missing; build the app/);
  });
});

/** A worker that speaks the protocol but never finishes a forward pass (a hung GPU). */
function hungLauncher() {
  const killed: number[] = [];
  let launches = 0;
  const launcher: WorkerLauncher = {
    launch() {
      const id = launches++;
      let listener: (m: unknown) => void = () => {};
      let exit: (e: { code: number | null; signal: string | null }) => void = () => {};
      const model = {
        modelName: 'hung',
        modelHash: 'a'.repeat(64),
        isDemo: true,
        executionProvider: 'CPU',
        providerReason: 'test',
        tokenizerSource: 'test',
        fullLogitsBytesPerPosition: 131072,
      };
      return {
        send(message) {
          if (message.type === 'load') setImmediate(() => listener({ type: 'loaded', seq: message.seq, model }));
          if (message.type === 'label') setImmediate(() => listener({ type: 'progress', seq: message.seq, tokensDone: 1, tokensTotal: 9 }));
          if (message.type === 'shutdown') setImmediate(() => exit({ code: 0, signal: null }));
        },
        onMessage: (l) => (listener = l),
        onExit: (l) => (exit = l),
        kill() {
          killed.push(id);
          setImmediate(() => exit({ code: null, signal: 'SIGKILL' }));
        },
      };
    },
  };
  return { launcher, killed, launches: () => launches };
}

describe('TeacherHost with a worker stuck in a forward pass', () => {
  it('rejects at once on abort, kills the worker after the grace period, starts a new one next time', async () => {
    const hung = hungLauncher();
    const { teacher } = host(hung.launcher, { cancelGraceMs: 200 });
    const controller = new AbortController();
    const running = teacher.label(task('t-hung', 1), { signal: controller.signal, onProgress: () => controller.abort() });
    const started = performance.now();
    await expect(running).rejects.toThrow(/cancel|abort/i);
    expect(performance.now() - started).toBeLessThan(1000);
    await new Promise((r) => setTimeout(r, 400));
    expect(hung.killed).toEqual([0]);
    await teacher.start();
    expect(hung.launches()).toBe(2);
    await teacher.dispose();
  });
});

describe('TeacherHost shared by several callers', () => {
  it('runs label calls that overlap one after another, each with its own labels, none refused', async () => {
    const { teacher } = host(forkLauncher);
    try {
      await teacher.start();
      // Two callers that each go on at once to their next task, as the validator's audits and re-checks do.
      const results: string[] = [];
      const caller = async (name: string) => {
        for (let i = 0; i < 3; i++) {
          const docs = await teacher.label(task(`${name}-${i}`, 2));
          results.push(`${name}-${i}:${docs.length}`);
        }
      };
      await Promise.all([caller('a'), caller('b'), caller('c')]);
      expect(results.sort()).toEqual(['a-0:2', 'a-1:2', 'a-2:2', 'b-0:2', 'b-1:2', 'b-2:2', 'c-0:2', 'c-1:2', 'c-2:2']);

      // A caller that gives up while waiting for its turn leaves at once and holds up nobody after it.
      const running = teacher.label(task('long', 8));
      const giveUp = new AbortController();
      const waiting = teacher.label(task('given-up', 2), { signal: giveUp.signal });
      const next = teacher.label(task('next', 2));
      giveUp.abort(new Error('not needed any more'));
      await expect(waiting).rejects.toThrow('not needed any more');
      expect((await running).length).toBe(8);
      expect((await next).map((d) => d.docId)).toEqual(task('next', 2).documents.map((d) => d.docId));

      // Disposed while calls wait their turn: they end as stopped, and no new worker is started for them.
      const busy = expect(teacher.label(task('last', 8))).rejects.toThrow('the teacher was stopped');
      const queued = expect(teacher.label(task('after-dispose', 2))).rejects.toThrow('the teacher was stopped');
      await teacher.dispose();
      await busy;
      await queued;
      await expect(teacher.label(task('later', 2))).rejects.toThrow('the teacher was stopped');
    } finally {
      await teacher.dispose();
    }
  });
});
