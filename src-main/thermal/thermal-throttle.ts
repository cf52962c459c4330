import type { GpuState, Settings } from '../../src-shared/state';
import { DisposableStore, type Event } from '../../src-node/event';
import type { Throttle } from '../miner/ports';
import { restAfterBatchMs, ThermalGovernor } from './governor';

export interface ThermalThrottleOptions {
  settings: { get(): Settings; onChange: Event<{ before: Settings; after: Settings }> };
  /** Every GPU reading (the monitor hears only changes; that is what the controller needs). */
  gpu: Event<GpuState>;
  now?: () => number;
}

/** A rest shorter than this is noise the user would only see as a flickering status. */
const MIN_REST_MS = 50;
const MAX_REST_MS = 60_000;

/**
 * Keeps the GPU under the user's °C and W limits while mining: it learns the limits from the
 * settings and the card's temperature and power from the GPU monitor, and the miner asks it how
 * long to rest after each task and how much to shrink the next lease.
 */
export class ThermalThrottle implements Throttle {
  private governor: ThermalGovernor;
  private lastReadingAtMs: number | null = null;
  private readonly subscriptions = new DisposableStore();
  private readonly now: () => number;

  constructor(private readonly o: ThermalThrottleOptions) {
    this.now = o.now ?? Date.now;
    this.governor = governorFor(o.settings.get());
    this.subscriptions.add(
      o.settings.onChange(({ before, after }) => {
        if (before.maxGpuTempC !== after.maxGpuTempC || before.maxGpuPowerW !== after.maxGpuPowerW) this.governor = governorFor(after);
      }),
    );
    this.subscriptions.add(o.gpu((state) => this.onReading(state)));
  }

  restAfter(taskMs: number): { ms: number; reason: string } | null {
    const out = this.governor.output;
    const ms = Math.min(MAX_REST_MS, restAfterBatchMs(taskMs, out.duty));
    if (ms < MIN_REST_MS) return null;
    const what = out.limitedBy === 'power' ? 'power draw' : 'temperature';
    return { ms, reason: `Holding the GPU under its ${what} limit: working ${Math.round(out.duty * 100)} % of the time` };
  }

  sizeScale(): number {
    return this.governor.output.batchScale;
  }

  dispose(): void {
    this.subscriptions.dispose();
  }

  private onReading(state: GpuState): void {
    const nowMs = this.now();
    // The limits are about the card the teacher runs on.
    const device = state.gpus.find((g) => g.index === this.o.settings.get().gpuDeviceId) ?? state.gpus[0];
    if (device) {
      const dtS = this.lastReadingAtMs === null ? 0 : (nowMs - this.lastReadingAtMs) / 1000;
      this.governor.update({ tempC: device.tempC, powerW: device.powerW }, dtS);
    }
    this.lastReadingAtMs = nowMs;
  }
}

function governorFor(settings: Settings): ThermalGovernor {
  return new ThermalGovernor({ maxTempC: settings.maxGpuTempC, maxPowerW: settings.maxGpuPowerW });
}
