import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, type GpuState, type Settings } from '../../src-shared/state';
import { Emitter } from '../../src-node/event';
import { ThermalThrottle } from '../../src-main/thermal/thermal-throttle';

/** Card 0 reads `tempC`; card 1 reads `otherTempC`. */
function gpusAt(tempC: number, otherTempC: number): GpuState {
  const base = {
    driver: null,
    utilizationPct: 100,
    memoryUsedMiB: null,
    memoryTotalMiB: null,
    powerW: 200,
    powerLimitW: null,
    fanPct: null,
    smClockMHz: null,
    memClockMHz: null,
  };
  return {
    status: 'ok',
    source: 'test',
    gpus: [
      { ...base, index: 0, name: 'card 0', tempC },
      { ...base, index: 1, name: 'card 1', tempC: otherTempC },
    ],
  };
}

function setup(initial: Partial<Settings>) {
  let current: Settings = { ...DEFAULT_SETTINGS, ...initial };
  const settingsChanged = new Emitter<{ before: Settings; after: Settings }>();
  const gpu = new Emitter<GpuState>();
  let nowMs = 0;
  const throttle = new ThermalThrottle({
    settings: { get: () => current, onChange: settingsChanged.event },
    gpu: gpu.event,
    now: () => nowMs,
  });
  const set = (patch: Partial<Settings>) => {
    const before = current;
    current = { ...current, ...patch };
    settingsChanged.fire({ before, after: current });
  };
  /** Readings every 2 s for `seconds`. */
  const run = (tempC: number, seconds: number, otherTempC = 40) => {
    for (let t = 0; t < seconds; t += 2) {
      nowMs += 2000;
      gpu.fire(gpusAt(tempC, otherTempC));
    }
  };
  return { throttle, set, run };
}

describe('ThermalThrottle', () => {
  it('does not rest without a limit, whatever the card reads', () => {
    const { throttle, run } = setup({ maxGpuTempC: null });
    run(95, 60);
    expect(throttle.restAfter(1000)).toBeNull();
    expect(throttle.sizeScale()).toBe(1);
  });

  it('rests after a task and leases smaller ones when the card runs over the user limit, and says why', () => {
    const { throttle, run } = setup({ maxGpuTempC: 70 });
    run(90, 120);
    const rest = throttle.restAfter(2000);
    expect(rest?.ms).toBeGreaterThan(0);
    expect(rest?.reason).toMatch(/temperature limit: working \d+ % of the time/);
    expect(throttle.sizeScale()).toBeLessThan(1);
  });

  it('learns a new limit from the settings, not from a rebuild', () => {
    const { throttle, set, run } = setup({ maxGpuTempC: null });
    run(90, 60);
    expect(throttle.restAfter(2000)).toBeNull();
    set({ maxGpuTempC: 70 });
    run(90, 120);
    expect(throttle.restAfter(2000)).not.toBeNull();
    set({ maxGpuTempC: null });
    expect(throttle.restAfter(2000)).toBeNull();
  });

  it('reads the card the teacher runs on, and stops listening when disposed', () => {
    const onCard1 = setup({ maxGpuTempC: 70, gpuDeviceId: 1 });
    onCard1.run(95, 120, 50);
    expect(onCard1.throttle.restAfter(2000)).toBeNull();
    onCard1.throttle.dispose();
    onCard1.run(95, 120, 95);
    expect(onCard1.throttle.restAfter(2000)).toBeNull();
    const onCard0 = setup({ maxGpuTempC: 70, gpuDeviceId: 0 });
    onCard0.run(95, 120, 50);
    expect(onCard0.throttle.restAfter(2000)).not.toBeNull();
  });
});
