import type { HistoryRange, HistorySeries as WireHistorySeries } from '../../src-shared/ipc';
import type { StateSnapshot } from '../../src-shared/state';
import type { HistoryStore } from './history-store';

export interface HistorySamplerOptions {
  store: HistoryStore;
  /** The figures to chart, read off the current snapshot. */
  snapshot: () => StateSnapshot;
  intervalMs?: number;
}

/**
 * Feeds the charts: once a second it reads the snapshot's figures into the history store, and it
 * answers the dashboard's `history:get` with the stored series in the wire's shape.
 */
export class HistorySampler {
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly o: HistorySamplerOptions) {}

  start(): void {
    if (this.timer) return;
    this.o.store.start();
    this.timer = setInterval(() => this.sample(), this.o.intervalMs ?? 1000);
    this.timer.unref?.();
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.o.store.dispose();
  }

  sample(): void {
    const s = this.o.snapshot();
    const gpus = s.gpu.gpus;
    const avg = (pick: (g: (typeof gpus)[number]) => number | null) => {
      const values = gpus.map(pick).filter((v): v is number => v !== null);
      return values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
    };
    this.o.store.record({
      gpuLoadPct: avg((g) => g.utilizationPct),
      tempC: avg((g) => g.tempC),
      powerW: gpus.length ? gpus.reduce((sum, g) => sum + (g.powerW ?? 0), 0) : null,
      tokensPerS: s.tokensPerS,
      earnedNano: s.earnings.earnedNano,
      validatedTokens: s.tokens.validated,
    });
  }

  series(range: HistoryRange): WireHistorySeries {
    const h = this.o.store.series(range);
    return { range, tMs: h.tMs, series: h.values };
  }
}
