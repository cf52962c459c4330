import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_SETTINGS } from '../../src-shared/state';
import { silentLogger } from '../../src-node/log';
import { earningsFigures } from '../../src-main/miner/earnings';
import { Miner, type MinerOptions } from '../../src-main/miner/miner';
import { TokenLedger } from '../../src-main/miner/token-ledger';
import { initialState } from '../../src-main/state/initial-state';
import { StateStore } from '../../src-main/state/state-store';
import type { MinerTask } from '../../src-main/miner/ports';
import { CannotMine } from '../../src-main/miner/cannot-mine';
import { FakeTeacher, FakeValidator, task, type Event } from './fakes';

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  vi.useRealTimers();
});

/** A miner on fakes, writing through the real store's writer (so a write outside its keys throws). */
function setup(options: Partial<MinerOptions> = {}) {
  const events: Event[] = [];
  const teacher = new FakeTeacher(events);
  const validator = new FakeValidator(events);
  const store = new StateStore(initialState(DEFAULT_SETTINGS));
  const state = store.writer('miner', 'miner', 'task', 'tokensPerS', 'tokens', 'earnings', 'teacher');
  const dir = mkdtempSync(join(tmpdir(), 'nya-miner-test-'));
  const miner = new Miner({
    teacher,
    validator,
    state,
    ledger: new TokenLedger(dir, silentLogger),
    log: silentLogger,
    maxBatchTokens: () => 1000,
    gpuClass: () => 'test-gpu',
    teacherRetryMs: 50,
    statsIntervalMs: 50,
    ...options,
  });
  cleanups.push(async () => {
    const disposed = miner.dispose();
    validator.answerWaiting();
    await disposed;
    store.dispose();
    rmSync(dir, { recursive: true, force: true });
  });
  /** Queues the tasks, starts the miner and resolves with its first label call. */
  const startWith = (...tasks: MinerTask[]) => {
    validator.queueTasks(...tasks);
    miner.start();
    return teacher.nthLabel(1);
  };
  return { events, teacher, validator, store, state, miner, startWith };
}

describe('Miner: prefetch', () => {
  it('leases the next task while the current one computes, and starts it without waiting for the network', async () => {
    const h = setup();
    const first = await h.startWith(task('t1'));
    expect(first.taskId).toBe('t1');
    expect(h.events).toEqual([
      { kind: 'lease', n: 1 },
      { kind: 'lease', n: 2 },
      { kind: 'label', taskId: 't1' },
    ]);

    // The validator answers lease #2 while t1 still computes; after that no lease is answered.
    h.validator.queueTasks(task('t2'));
    first.finish();
    const second = await h.teacher.nthLabel(2);
    expect(second.taskId).toBe('t2');
    expect(h.events).toEqual([
      { kind: 'lease', n: 1 },
      { kind: 'lease', n: 2 },
      { kind: 'label', taskId: 't1' },
      { kind: 'submit', taskId: 't1' },
      { kind: 'lease', n: 3 },
      { kind: 'label', taskId: 't2' },
    ]);
  });
});

describe('Miner: pause, hold and resume', () => {
  it('a pause aborts the task and releases the GPU; resume re-runs the same task', async () => {
    const h = setup();
    const first = await h.startWith(task('t1'));

    expect(h.miner.setPaused(true)).toEqual({ status: 'paused', reason: 'Paused by you', userPaused: true, pausedUntilMs: null });
    expect(first.signal?.aborted).toBe(true);
    await vi.waitFor(() => expect(h.teacher.stops).toBe(1));
    expect(h.state.get().miner.status).toBe('paused');
    expect(h.state.get().task).toBeNull();
    expect(h.teacher.labels).toHaveLength(1);

    expect(h.miner.setPaused(false)).toMatchObject({ status: 'starting', reason: 'Resuming', userPaused: false });
    const again = await h.teacher.nthLabel(2);
    expect(again.taskId).toBe('t1');
    expect(h.teacher.starts).toBe(2);
    expect(h.state.get().miner.status).toBe('mining');
    again.finish();
    await vi.waitFor(() => expect(h.validator.submissions.map((s) => s.taskId)).toEqual(['t1']));
  });

  it('a pause for a while resumes by itself when the time is up', async () => {
    vi.useFakeTimers();
    const h = setup({ statsIntervalMs: 60_000 });
    await h.startWith(task('t1'));
    const pausedAtMs = Date.now();

    expect(h.miner.setPaused(true, 10_000)).toMatchObject({ status: 'paused', userPaused: true, pausedUntilMs: pausedAtMs + 10_000 });
    await vi.advanceTimersByTimeAsync(9_999);
    expect(h.teacher.stops).toBe(1);
    expect(h.teacher.labels).toHaveLength(1);
    expect(h.state.get().miner.status).toBe('paused');

    await vi.advanceTimersByTimeAsync(1);
    expect(h.teacher.labels.map((l) => l.taskId)).toEqual(['t1', 't1']);
    expect(h.state.get().miner).toMatchObject({ status: 'mining', userPaused: false, pausedUntilMs: null });
  });

  it('a hold pauses with its own status and reason, and lifting it resumes the same task', async () => {
    const h = setup();
    const first = await h.startWith(task('t1'));

    h.miner.setHold({ status: 'waiting-for-idle', reason: 'Waiting: a game is running' });
    expect(first.signal?.aborted).toBe(true);
    await vi.waitFor(() => expect(h.teacher.stops).toBe(1));
    expect(h.state.get().miner).toEqual({
      status: 'waiting-for-idle',
      reason: 'Waiting: a game is running',
      userPaused: false,
      pausedUntilMs: null,
    });

    h.miner.setHold(null);
    const again = await h.teacher.nthLabel(2);
    expect(again.taskId).toBe('t1');
    expect(h.state.get().miner.status).toBe('mining');
  });
});

describe('Miner: leases', () => {
  it('does not re-run a paused task whose lease expired during the pause', async () => {
    vi.useFakeTimers();
    const h = setup({ statsIntervalMs: 60_000 });
    await h.startWith(task('short', { deadlineAtMs: Date.now() + 5_000 }), task('t2'));
    h.miner.setPaused(true);
    await vi.waitFor(() => expect(h.teacher.stops).toBe(1));
    await vi.advanceTimersByTimeAsync(6_000);
    h.miner.setPaused(false);
    const next = await h.teacher.nthLabel(2);
    expect(next.taskId).toBe('t2');
  });

  it('does not compute a lease that expired before it started, and leases again', async () => {
    const h = setup();
    const first = await h.startWith(task('stale', { deadlineAtMs: Date.now() - 1 }), task('t2'));
    expect(first.taskId).toBe('t2');
    expect(h.events.slice(0, 3)).toEqual([
      { kind: 'lease', n: 1 },
      { kind: 'lease', n: 2 },
      { kind: 'lease', n: 3 },
    ]);
  });

  it('rests after a task for as long as the throttle says, and scales the lease size', async () => {
    vi.useFakeTimers();
    const reason = 'Holding the GPU under its temperature limit: working 50 % of the time';
    const throttle = { restAfter: vi.fn(() => ({ ms: 5_000, reason })), sizeScale: () => 0.5 };
    const h = setup({ throttle, statsIntervalMs: 60_000 });
    const first = await h.startWith(task('t1'), task('t2'));
    await vi.advanceTimersByTimeAsync(2_000);
    first.progress(50, 100);
    first.finish();
    await vi.advanceTimersByTimeAsync(0);
    expect(throttle.restAfter).toHaveBeenCalledWith(2_000);
    expect(h.state.get().miner).toMatchObject({ status: 'mining', reason });

    await vi.advanceTimersByTimeAsync(4_999);
    expect(h.teacher.labels).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.teacher.labels.map((l) => l.taskId)).toEqual(['t1', 't2']);

    // Before any rate is known one batch's worth (1000 × 0.5), then four batches (4 × 1000 × 0.5).
    expect(h.validator.leases.map((l) => l.maxTokens)).toEqual([500, 500, 2_000]);
    expect(h.validator.leases[0]).toMatchObject({ tokensPerS: null, gpuClass: 'test-gpu' });
    expect(h.validator.leases[2]!.tokensPerS).toBeGreaterThan(0);
  });
});

describe('Miner: outcomes, totals and errors', () => {
  it('counts computed tokens on submit and validated tokens from the outcomes', async () => {
    const h = setup({ statsIntervalMs: 60_000 });
    (await h.startWith(task('t1', { docs: 2 }))).finish(50);
    await vi.waitFor(() => expect(h.state.get().tokens).toMatchObject({ computed: 100, tasksCompleted: 1, pending: 100, validated: 0 }));
    expect(h.validator.submissions).toMatchObject([{ taskId: 't1', tokens: 100 }]);

    // The validator's stats are unreachable: the miner's own tally of outcomes counts.
    h.validator.emitOutcome({ taskId: 't1', tokens: 100, status: 'validated', creditedTokens: 100 });
    expect(h.state.get().tokens).toMatchObject({ validated: 100, pending: 0 });

    // Once the validator answers, its figures win, and the earnings follow.
    h.validator.statsAnswer = {
      validatedTokens: 120,
      pendingTokens: 7,
      rejectedTokens: 3,
      earnedNano: '5000',
      settledNano: '3000',
      settlingNano: '1000',
      projectedNano: '1000',
      settlesAtMs: 7_200_000,
      openEpoch: { epoch: 2, startMs: 7_200_000, endMs: 10_800_000, emissionNano: '4000' },
      epochShare: 0.25,
    };
    h.validator.emitOutcome({ taskId: 't0', tokens: 20, status: 'validated' });
    await vi.waitFor(() => expect(h.state.get().earnings).toEqual(earningsFigures(h.validator.statsAnswer!)));
    expect(h.state.get().earnings).toMatchObject({ creditedNano: '3000', projectedNano: '1000', epochEndsAtMs: 10_800_000 });
    expect(h.state.get().tokens).toMatchObject({ validated: 120, pending: 7, rejected: 3 });
  });

  it('a teacher that fails to load shows the error and is tried again after teacherRetryMs', async () => {
    vi.useFakeTimers();
    const h = setup({ teacherRetryMs: 30_000, statsIntervalMs: 60_000 });
    h.teacher.failStarts = 1;
    h.validator.queueTasks(task('t1'));
    h.miner.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(h.state.get().teacher).toMatchObject({ state: 'error', error: 'model.onnx is truncated' });
    expect(h.state.get().miner).toMatchObject({ status: 'error', reason: 'The model could not be loaded: model.onnx is truncated' });
    expect(h.validator.leases).toHaveLength(0);

    await vi.advanceTimersByTimeAsync(29_999);
    expect(h.teacher.starts).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.teacher.starts).toBe(2);
    expect(h.state.get().teacher).toMatchObject({ state: 'ready', modelName: 'tiny', executionProvider: 'cpu', error: null });
    expect(h.teacher.labels.map((l) => l.taskId)).toEqual(['t1']);
  });

  it('a validator that wants another model stops mining with the reason and tells whoever can fix it', async () => {
    vi.useFakeTimers();
    const told: CannotMine[] = [];
    const h = setup({ statsIntervalMs: 60_000, onCannotMine: (error) => told.push(error) });
    const wrong = new CannotMine('wrong-model', 'This validator accepts labels from model abc; the miner runs def.');
    h.validator.queue({ kind: 'cannot-mine', error: wrong });
    h.miner.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(told).toEqual([wrong]);
    expect(h.state.get().miner).toMatchObject({ status: 'error', reason: wrong.message });
    expect(h.teacher.labels).toEqual([]);
  });

  it('a model the teacher cannot load is told as such, not only retried', async () => {
    vi.useFakeTimers();
    const told: CannotMine[] = [];
    const h = setup({ teacherRetryMs: 30_000, statsIntervalMs: 60_000, onCannotMine: (error) => told.push(error) });
    h.teacher.start = () => Promise.reject(new CannotMine('model-unusable', 'The model in /m cannot be loaded: bad graph'));
    h.miner.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(told.map((e) => e.reason)).toEqual(['model-unusable']);
    expect(h.state.get().miner).toMatchObject({ status: 'error', reason: 'The model in /m cannot be loaded: bad graph' });
  });

  it('a failing task shows the error, and the loop goes on with the next task', async () => {
    vi.useFakeTimers();
    const h = setup({ statsIntervalMs: 60_000 });
    (await h.startWith(task('t1'), task('t2'))).fail(new Error('CUDA out of memory'));
    await vi.advanceTimersByTimeAsync(0);
    expect(h.state.get().miner).toMatchObject({ status: 'error', reason: 'A task failed: CUDA out of memory' });
    expect(h.state.get().task).toBeNull();
    expect(h.validator.submissions).toEqual([]);

    // The miner waits a few seconds after a failure before it goes on.
    await vi.advanceTimersByTimeAsync(5_000);
    expect(h.teacher.labels.map((l) => l.taskId)).toEqual(['t1', 't2']);
    expect(h.state.get().miner.status).toBe('mining');
  });

  it('leaves the validator part of the snapshot to others', async () => {
    const h = setup();
    const before = h.store.get().validator;
    await h.startWith(task('t1'));
    // Only the outcome listener: no subscription to the connection state.
    expect(h.validator.listened).toEqual({ change: false, outcome: true });
    expect(h.store.get().validator).toEqual(before);
  });
});

describe('Miner: dispose', () => {
  it('dispose mid-task resolves, aborts the task and stops leasing and polling', async () => {
    vi.useFakeTimers();
    const h = setup({ statsIntervalMs: 1_000 });
    const first = await h.startWith(task('t1'), task('t2'), task('t3'));
    const leases = h.validator.leases.length;

    await h.miner.dispose();
    expect(first.signal?.aborted).toBe(true);
    expect(h.validator.listened).toEqual({ change: false, outcome: false });
    const statsCalls = h.validator.statsCalls;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(h.validator.leases).toHaveLength(leases);
    expect(h.teacher.labels).toHaveLength(1);
    expect(h.validator.statsCalls).toBe(statsCalls);
  });
});

describe('Miner: speed now, status and task from one write', () => {
  /** Every snapshot the store pushes, checked: a miner that is not mining shows no task and no speed. */
  function watchConsistency(h: ReturnType<typeof setup>) {
    const broken: string[] = [];
    const sub = h.store.onChange((s) => {
      if (s.miner.status !== 'mining' && (s.task !== null || s.tokensPerS !== 0))
        broken.push(`${s.miner.status} with task ${s.task?.taskId ?? 'none'} at ${s.tokensPerS} tok/s`);
    });
    cleanups.push(() => sub.dispose());
    return broken;
  }

  it('shows the speed while labelling, and 0 as soon as the user pauses between two tasks', async () => {
    vi.useFakeTimers();
    const h = setup({ statsIntervalMs: 60_000 });
    const broken = watchConsistency(h);
    const first = await h.startWith(task('t1'));
    await vi.advanceTimersByTimeAsync(2_000);
    first.progress(6_000, 12_000);
    expect(h.state.get().tokensPerS).toBeCloseTo(3_000);
    await vi.advanceTimersByTimeAsync(2_000);
    first.finish(3_000);
    // Finished; the next lease is not answered: the miner sits between tasks.
    await vi.waitFor(() => expect(h.validator.submissions).toHaveLength(1));
    expect(h.state.get().task).toBeNull();
    expect(h.state.get().miner.reason).not.toMatch(/Labelling/);
    expect(h.state.get().tokensPerS).toBeGreaterThan(0);

    h.miner.setPaused(true);
    expect(h.state.get().tokensPerS).toBe(0);
    await vi.advanceTimersByTimeAsync(5 * 60_000);
    expect(h.state.get().tokensPerS).toBe(0);
    expect(broken).toEqual([]);
  });

  it('lets the speed fall to 0 while the validator has no work, and says no work', async () => {
    vi.useFakeTimers();
    const h = setup({ statsIntervalMs: 60_000 });
    const broken = watchConsistency(h);
    const first = await h.startWith(task('t1'));
    await vi.advanceTimersByTimeAsync(4_000);
    first.progress(12_000, 12_000);
    h.validator.queue({ kind: 'no-work', retryAfterMs: 60_000 });
    first.finish(6_000);
    await vi.waitFor(() => expect(h.state.get().miner.status).toBe('no-work'));
    expect(h.state.get()).toMatchObject({ task: null, tokensPerS: 0 });
    expect(broken).toEqual([]);
  });

  it('lets "Speed now" fall to 0 over the last seconds when the work stops without a status change', async () => {
    vi.useFakeTimers();
    const h = setup({ statsIntervalMs: 60_000 });
    const first = await h.startWith(task('t1'));
    await vi.advanceTimersByTimeAsync(4_000);
    first.progress(12_000, 12_000);
    first.finish(6_000);
    await vi.waitFor(() => expect(h.validator.submissions).toHaveLength(1));
    // Still "mining" (waiting for a lease that never comes): the rate window empties.
    await vi.advanceTimersByTimeAsync(30_000);
    expect(h.state.get().miner.status).toBe('mining');
    expect(h.state.get().tokensPerS).toBe(0);
  });
});

describe('Miner: earnings at epoch boundaries', () => {
  it('asks the validator again just after the open epoch ends, not only on its interval', async () => {
    vi.useFakeTimers();
    const h = setup({ statsIntervalMs: 600_000 });
    const endMs = Date.now() + 10_000;
    h.validator.statsAnswer = {
      validatedTokens: 10,
      pendingTokens: 0,
      rejectedTokens: 0,
      earnedNano: '1000',
      settledNano: '0',
      settlingNano: '0',
      projectedNano: '1000',
      settlesAtMs: null,
      openEpoch: { epoch: 1, startMs: endMs - 60_000, endMs, emissionNano: '1000' },
      epochShare: 1,
    };
    await h.startWith(task('t1'));
    await vi.waitFor(() => expect(h.state.get().earnings.epochEndsAtMs).toBe(endMs));
    const calls = h.validator.statsCalls;
    h.validator.statsAnswer = { ...h.validator.statsAnswer, projectedNano: '0', settlingNano: '1000', settlesAtMs: endMs + 60_000 };
    await vi.advanceTimersByTimeAsync(10_000 + 1_000);
    expect(h.validator.statsCalls).toBeGreaterThan(calls);
    expect(h.state.get().earnings).toMatchObject({ settlingNano: '1000', projectedNano: '0' });
  });
});
