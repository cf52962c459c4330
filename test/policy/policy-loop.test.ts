import { describe, expect, it } from 'vitest';
import type { MinerStatus } from '../../src-shared/state';
import { DEFAULT_MINING_POLICY } from '../../src-main/policy/mining-policy-config';
import type { GameSignal } from '../../src-main/policy/signals';
import { desktopPolicyConfig, PolicyLoop } from '../../src-main/policy/policy-loop';
import { DEFAULT_SETTINGS } from '../../src-shared/state';
import { silentLogger } from '../../src-node/log';
import { snapshotFixture } from '../electron/snapshot-fixture';

type Hold = { reason: string; status: MinerStatus } | null;

function setup(config = { ...DEFAULT_MINING_POLICY, resumeAfterIdleMin: 5, resumeDelayS: 60 }) {
  let nowMs = Date.UTC(2026, 0, 5, 12);
  const world = { idleSeconds: 0 as number | null, onBattery: false, games: [] as GameSignal[], tempC: null as number | null };
  const holds: Hold[] = [];
  const loop = new PolicyLoop({
    signals: {
      idleSeconds: () => world.idleSeconds,
      onBattery: () => world.onBattery,
      detect: async () => ({ games: world.games, otherGpuProcesses: null }),
    },
    state: {
      get: () => {
        const s = snapshotFixture();
        s.gpu = { status: 'ok', source: 'test', gpus: [{ ...gpu, tempC: world.tempC }] };
        return s;
      },
    },
    miner: { setHold: (h) => void holds.push(h) },
    config: () => config,
    log: silentLogger,
    now: () => nowMs,
    slowSignalMs: 0,
  });
  const step = async (seconds: number) => {
    nowMs += seconds * 1000;
    world.idleSeconds = world.idleSeconds === null ? null : world.idleSeconds + seconds;
    // Let any earlier probe finish, start a fresh one, and decide with what it saw.
    await loop.settled();
    loop.tick();
    await loop.settled();
    return loop.tick();
  };
  return { world, holds, loop, step };
}

const gpu = {
  index: 0,
  name: 'GPU',
  driver: null,
  utilizationPct: null,
  memoryUsedMiB: null,
  memoryTotalMiB: null,
  tempC: null,
  powerW: null,
  powerLimitW: null,
  fanPct: null,
  smClockMHz: null,
  memClockMHz: null,
};

describe('PolicyLoop', () => {
  it('holds the miner while the PC is in use and lifts the hold after the idle time', async () => {
    const s = setup();
    expect((await s.step(0)).status).toBe('waiting-for-idle');
    expect(s.holds.at(-1)).toMatchObject({ status: 'waiting-for-idle' });
    expect((await s.step(299)).decision).toBe('pause');
    expect((await s.step(1)).decision).toBe('mine');
    expect(s.holds.at(-1)).toBeNull();
  });

  it('pauses at once for a game seen by a slow detector, with the game in the reason', async () => {
    const s = setup({ ...DEFAULT_MINING_POLICY, onlyWhenIdle: false });
    expect((await s.step(0)).decision).toBe('mine');
    s.world.games = [{ kind: 'steam-game', source: 'steam-registry', name: 'Portal 2' }];
    const d = await s.step(2);
    expect(d.decision).toBe('pause');
    expect(s.holds.at(-1)).toEqual({ status: 'paused', reason: 'Paused: Steam game running (Portal 2)' });
    s.world.games = [];
    expect((await s.step(2)).reason).toMatch(/^Resuming in/);
    expect((await s.step(60)).decision).toBe('mine');
  });

  it('pauses on battery and for an over-temperature GPU from the snapshot', async () => {
    const s = setup({ ...DEFAULT_MINING_POLICY, onlyWhenIdle: false, maxTempC: 80 });
    s.world.onBattery = true;
    expect((await s.step(0)).reason).toBe('Paused: running on battery');
    s.world.onBattery = false;
    s.world.tempC = 85;
    expect((await s.step(1)).reason).toMatch(/GPU at 85 °C/);
  });

  it('watches the GPU the teacher runs on', async () => {
    const config = { ...DEFAULT_MINING_POLICY, onlyWhenIdle: false, maxTempC: 80 };
    const hot = { ...gpu, index: 1, tempC: 90 };
    const cool = { ...gpu, index: 0, tempC: 50 };
    const run = (deviceId: number) => {
      const loop = new PolicyLoop({
        signals: { idleSeconds: () => null, onBattery: () => null },
        state: {
          get: () => {
            const s = snapshotFixture();
            s.gpu = { status: 'ok', source: 'test', gpus: [cool, hot] };
            s.settings = { ...s.settings, gpuDeviceId: deviceId };
            return s;
          },
        },
        miner: { setHold: () => undefined },
        config: () => config,
        log: silentLogger,
      });
      return loop.tick().decision;
    };
    expect(run(0)).toBe('mine');
    expect(run(1)).toBe('pause');
  });

  it('keeps deciding when a detector fails', async () => {
    const s = setup({ ...DEFAULT_MINING_POLICY, onlyWhenIdle: false });
    expect((await s.step(0)).decision).toBe('mine');
    (s.loop as unknown as { o: { signals: { detect: () => Promise<never> } } }).o.signals.detect = () =>
      Promise.reject(new Error('registry unreadable'));
    expect((await s.step(2)).decision).toBe('mine');
  });
});

describe('desktopPolicyConfig', () => {
  it("takes the user's limits as hard stops, keeping a default temperature stop", () => {
    expect(desktopPolicyConfig({ ...DEFAULT_SETTINGS, maxGpuTempC: 75, maxGpuPowerW: 200 })).toMatchObject({
      maxTempC: 75,
      maxPowerW: 200,
    });
    expect(desktopPolicyConfig(DEFAULT_SETTINGS)).toMatchObject({ maxTempC: DEFAULT_MINING_POLICY.maxTempC, maxPowerW: null });
  });
});
