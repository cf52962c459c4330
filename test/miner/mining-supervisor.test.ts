import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, type Settings } from '../../src-shared/state';
import { Emitter } from '../../src-node/event';
import { silentLogger } from '../../src-node/log';
import { MiningSupervisor, type Hold, type MiningLoop, type MiningPipeline } from '../../src-main/miner/mining-supervisor';
import { initialState } from '../../src-main/state/initial-state';
import { StateStore } from '../../src-main/state/state-store';

interface FakePipeline extends MiningPipeline {
  id: number;
  closed: boolean;
  setConnection(connection: 'connecting' | 'online' | 'offline'): void;
}

class FakeLoop implements MiningLoop {
  started = false;
  disposed = false;
  paused: { paused: boolean; forMs?: number } | null = null;
  hold: Hold | null = null;
  start() {
    this.started = true;
  }
  async dispose() {
    this.disposed = true;
  }
  setPaused(paused: boolean, forMs?: number) {
    this.paused = forMs === undefined ? { paused } : { paused, forMs };
  }
  setHold(hold: Hold | null) {
    this.hold = hold;
  }
}

type WaitFor = NonNullable<ConstructorParameters<typeof MiningSupervisor>[0]['waitFor']>;

function setup(initial: Partial<Settings> = {}, opts: { failOpens?: number; waitFor?: WaitFor } = {}) {
  let current: Settings = { ...DEFAULT_SETTINGS, ...initial };
  const settingsChanged = new Emitter<{ before: Settings; after: Settings }>();
  const miningKey = new Emitter<string | null>();
  const state = new StateStore(initialState(current));
  const events: string[] = [];
  const pipelines: FakePipeline[] = [];
  const loops: FakeLoop[] = [];
  let failOpens = opts.failOpens ?? 0;
  let openGate: Promise<void> = Promise.resolve();
  const supervisor = new MiningSupervisor<FakePipeline>({
    settings: { get: () => current, onChange: settingsChanged.event },
    async openPipeline(settings) {
      const id = pipelines.length + 1;
      events.push(`open ${id} ${settings.modelDir ?? 'demo'}`);
      await openGate;
      if (failOpens > 0) {
        failOpens--;
        events.push(`open ${id} failed`);
        throw new Error('The model in /m cannot be used: no model.onnx');
      }
      const changed = new Emitter<void>();
      const connection = {
        connection: 'connecting' as 'connecting' | 'online' | 'offline',
        lastError: null,
        retryAtMs: null,
        outboxPending: 2,
      };
      const pipeline: FakePipeline = {
        id,
        closed: false,
        signingAddress: `address-${id}`,
        validator: { state: connection, onChange: changed.event },
        setConnection(c) {
          connection.connection = c;
          changed.fire();
        },
        async close() {
          pipeline.closed = true;
          events.push(`close ${id}`);
        },
      };
      pipelines.push(pipeline);
      return pipeline;
    },
    createLoop() {
      const loop = new FakeLoop();
      loops.push(loop);
      return loop;
    },
    miner: state.writer('mining supervisor', 'miner'),
    validator: state.writer('mining supervisor', 'validator'),
    onMiningKeyChange: miningKey.event,
    ...(opts.waitFor ? { waitFor: opts.waitFor } : {}),
    log: silentLogger,
    now: () => 1_000,
  });
  const set = (patch: Partial<Settings>) => {
    const before = current;
    current = { ...current, ...patch };
    settingsChanged.fire({ before, after: current });
  };
  const gate = () => {
    let release!: () => void;
    openGate = new Promise((resolve) => (release = resolve));
    return () => {
      openGate = Promise.resolve();
      release();
    };
  };
  return { supervisor, state, events, pipelines, loops, set, miningKey, gate };
}

describe('MiningSupervisor', () => {
  it('opens a pipeline, runs a loop on it and mirrors its validator connection into the snapshot', async () => {
    const t = setup();
    await t.supervisor.start();
    expect(t.loops[0]?.started).toBe(true);
    expect(t.supervisor.current?.id).toBe(1);
    expect(t.state.get().validator).toMatchObject({ connection: 'connecting', outboxPending: 2, signingAddress: 'address-1' });
    t.pipelines[0]!.setConnection('online');
    expect(t.state.get().validator.connection).toBe('online');
    await t.supervisor.dispose();
    expect(t.loops[0]?.disposed).toBe(true);
    expect(t.pipelines[0]?.closed).toBe(true);
  });

  it('rebuilds on a setting that needs it, not on others, and shows the validator mode the settings choose', async () => {
    const t = setup();
    await t.supervisor.start();
    t.set({ maxBatchTokens: 2048, wandbEnabled: true });
    await t.supervisor.settled();
    expect(t.pipelines).toHaveLength(1);
    t.set({ validatorUrl: 'https://validator.example' });
    expect(t.state.get().validator).toMatchObject({ mode: 'remote', url: 'https://validator.example' });
    await t.supervisor.settled();
    expect(t.events).toEqual(['open 1 demo', 'close 1', 'open 2 demo']);
    expect(t.loops[0]?.disposed).toBe(true);
    expect(t.loops[1]?.started).toBe(true);
    await t.supervisor.dispose();
  });

  it('opens nothing while the teacher is on its way, shows why, and opens once when it is here', async () => {
    const changed = new Emitter<void>();
    let reason: { status: 'starting' | 'error'; reason: string } | null = { status: 'starting', reason: 'Getting the teacher: int4' };
    const t = setup(
      { validatorUrl: 'https://validator.example' },
      { waitFor: { wait: (s) => (s.modelDir ? null : reason), onChange: changed.event } },
    );
    await t.supervisor.start();
    expect(t.events).toEqual([]);
    expect(t.state.get().miner).toMatchObject({ status: 'starting', reason: 'Getting the teacher: int4' });
    reason = { status: 'error', reason: 'Could not get the teacher: disk full' };
    changed.fire();
    await t.supervisor.settled();
    expect(t.state.get().miner).toMatchObject({ status: 'error', reason: 'Could not get the teacher: disk full' });
    // The download's end: the model folder is set and the wait ends at the same moment; one open.
    t.set({ modelDir: '/models/int4' });
    changed.fire();
    await t.supervisor.settled();
    expect(t.events).toEqual(['open 1 /models/int4']);
    expect(t.loops[0]?.started).toBe(true);
    await t.supervisor.dispose();
  });

  it('runs one rebuild at a time, in order, and ends on the last settings', async () => {
    const t = setup();
    await t.supervisor.start();
    const release = t.gate();
    t.set({ modelDir: '/a' });
    t.set({ modelDir: '/b' });
    t.set({ modelDir: '/c' });
    release();
    await t.supervisor.settled();
    // Each close comes before the next open: two teachers never hold the GPU at once.
    expect(t.events).toEqual(['open 1 demo', 'close 1', 'open 2 /c', 'close 2', 'open 3 /c', 'close 3', 'open 4 /c']);
    expect(t.supervisor.current?.id).toBe(4);
    await t.supervisor.dispose();
  });

  it('keeps the user pause and the desktop hold across rebuilds, and shows a pause made before any loop runs', async () => {
    const t = setup();
    const miner = t.supervisor.setPaused(true, 60_000);
    expect(miner).toMatchObject({ userPaused: true, pausedUntilMs: 61_000 });
    t.supervisor.setHold({ status: 'waiting-for-idle', reason: 'You are using the PC' });
    await t.supervisor.start();
    expect(t.loops[0]).toMatchObject({ paused: { paused: true, forMs: 60_000 }, hold: { status: 'waiting-for-idle' } });
    t.set({ gpuDeviceId: 1 });
    await t.supervisor.settled();
    expect(t.loops[1]).toMatchObject({ paused: { paused: true, forMs: 60_000 }, hold: { status: 'waiting-for-idle' } });
    t.supervisor.setPaused(false);
    t.supervisor.setHold(null);
    expect(t.loops[1]).toMatchObject({ paused: { paused: false }, hold: null });
    await t.supervisor.dispose();
  });

  it('reports a pipeline that cannot open as an error the user can read, stays up, and tries again on the next change', async () => {
    const t = setup({}, { failOpens: 1 });
    await t.supervisor.start();
    const s = t.state.get();
    expect(s.miner).toMatchObject({ status: 'error', reason: 'The model in /m cannot be used: no model.onnx' });
    expect(s.validator).toMatchObject({ connection: 'offline', lastError: 'The model in /m cannot be used: no model.onnx' });
    expect(t.supervisor.current).toBeNull();
    t.set({ modelDir: '/fixed' });
    await t.supervisor.settled();
    expect(t.supervisor.current?.id).toBe(1);
    expect(t.loops).toHaveLength(1);
    await t.supervisor.dispose();
  });

  it('rebuilds for a new mining key only when a remote validator knows the miner by it', async () => {
    const local = setup();
    await local.supervisor.start();
    local.miningKey.fire('5Fnew');
    await local.supervisor.settled();
    expect(local.pipelines).toHaveLength(1);
    await local.supervisor.dispose();

    const remote = setup({ validatorUrl: 'https://validator.example' });
    await remote.supervisor.start();
    remote.miningKey.fire('5Fnew');
    await remote.supervisor.settled();
    expect(remote.pipelines).toHaveLength(2);
    await remote.supervisor.dispose();
  });

  it('stops listening when disposed: a later settings change opens nothing', async () => {
    const t = setup();
    await t.supervisor.start();
    await t.supervisor.dispose();
    t.set({ modelDir: '/after' });
    await t.supervisor.settled();
    expect(t.pipelines).toHaveLength(1);
    expect(t.pipelines[0]?.closed).toBe(true);
  });
});
