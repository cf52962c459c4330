import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HistorySeries } from '../../src-shared/ipc';
import { HistorySampler, HistoryStore, RingBuffer, type HistorySample } from '../../src-main/history';
import { LogHub } from '../../src-node/log';
import { snapshotFixture } from '../electron/snapshot-fixture';

const T0 = Date.UTC(2025, 0, 6, 12, 0, 0); // on a whole hour, so buckets line up with the test's arithmetic

const sample = (over: Partial<HistorySample> = {}): HistorySample => ({
  gpuLoadPct: 50,
  tempC: 60,
  powerW: 200,
  tokensPerS: 1000,
  earnedNano: '0',
  validatedTokens: 0,
  ...over,
});

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nya-history-'));
});
afterEach(() => {
  vi.useRealTimers();
  rmSync(dir, { recursive: true, force: true });
});

function warnings() {
  const lines: string[] = [];
  const hub = new LogHub();
  hub.attach((record) => lines.push(record.message));
  return { logger: hub.logger('history'), lines };
}

describe('HistoryStore downsampling', () => {
  it('averages gauges and keeps the last counter value within a bucket', () => {
    const store = new HistoryStore({ file: join(dir, 'history.json') });
    store.record(sample({ gpuLoadPct: 40, validatedTokens: 100, earnedNano: '5000' }), T0);
    store.record(sample({ gpuLoadPct: 80, validatedTokens: 250, earnedNano: '9000' }), T0 + 500);
    store.record(sample({ gpuLoadPct: 10, validatedTokens: 300, earnedNano: '9100' }), T0 + 1000);
    const seconds = store.series('10m', T0 + 1000);
    expect(seconds.tMs).toEqual([T0, T0 + 1000]);
    expect(seconds.values.gpuLoadPct).toEqual([60, 10]);
    expect(seconds.values.validatedTokens).toEqual([250, 300]);
    expect(seconds.values.earnedNano).toEqual([9000, 9100]);
    const minutes = store.series('24h', T0 + 1000);
    expect(minutes.tMs).toEqual([T0]);
    expect(minutes.values.gpuLoadPct).toEqual([(40 + 80 + 10) / 3]);
    expect(minutes.values.validatedTokens).toEqual([300]);
  });

  it('builds minute and hour points from every raw sample, not from averages of averages', () => {
    const store = new HistoryStore({ file: join(dir, 'history.json') });
    // Uneven sampling: 3 readings of 90 in the first second, then 1 reading of 0 per second.
    for (let i = 0; i < 3; i++) store.record(sample({ tempC: 90 }), T0 + i * 100);
    for (let s = 1; s < 60; s++) store.record(sample({ tempC: 0 }), T0 + s * 1000);
    const minute = store.series('24h', T0 + 59_000).values.tempC[0]!;
    expect(minute).toBeCloseTo((3 * 90) / 62, 10);
    expect(store.series('30d', T0 + 59_000).values.tempC[0]).toBeCloseTo(minute, 10);
  });

  it('ignores missing readings in an average and reports a bucket with none as null', () => {
    const store = new HistoryStore({ file: join(dir, 'history.json') });
    store.record(sample({ powerW: null, tempC: 70 }), T0);
    store.record(sample({ powerW: 300, tempC: null }), T0 + 200);
    store.record(sample({ powerW: null, earnedNano: 'garbage' }), T0 + 1000);
    const s = store.series('10m', T0 + 1000);
    expect(s.values.powerW).toEqual([300, null]);
    expect(s.values.tempC).toEqual([70, 60]);
    expect(s.values.earnedNano).toEqual([0, null]);
  });

  it('leaves gaps where nothing was recorded', () => {
    const store = new HistoryStore({ file: join(dir, 'history.json') });
    store.record(sample(), T0);
    store.record(sample(), T0 + 5 * 60_000);
    expect(store.series('10m', T0 + 5 * 60_000).tMs).toEqual([T0, T0 + 5 * 60_000]);
    expect(store.series('24h', T0 + 5 * 60_000).tMs).toEqual([T0, T0 + 5 * 60_000]);
  });

  it('folds a sample from a clock that stepped back into the open bucket', () => {
    const store = new HistoryStore({ file: join(dir, 'history.json') });
    store.record(sample({ gpuLoadPct: 20 }), T0 + 5000);
    store.record(sample({ gpuLoadPct: 40 }), T0 + 1000);
    const s = store.series('10m', T0 + 5000);
    expect(s.tMs).toEqual([T0 + 5000]);
    expect(s.values.gpuLoadPct).toEqual([30]);
  });
});

describe('HistoryStore retention', () => {
  it.each([
    ['10m', 1000, 11 * 60, 600, 10 * 60_000],
    ['24h', 60_000, 25 * 60, 1440, 24 * 3_600_000],
    ['30d', 3_600_000, 32 * 24, 744, 31 * 24 * 3_600_000],
  ] as const)('%s keeps %i ms points for its window only', (range, stepMs, steps, maxPoints, keepMs) => {
    const store = new HistoryStore({ file: join(dir, 'history.json') });
    for (let i = 0; i < steps; i++) store.record(sample({ tokensPerS: i }), T0 + i * stepMs);
    const now = T0 + (steps - 1) * stepMs;
    const s = store.series(range, now);
    expect(s.tMs.length).toBe(maxPoints);
    expect(s.tMs[0]!).toBeGreaterThan(now - keepMs);
    expect(s.tMs.at(-1)).toBe(now);
    expect(s.values.tokensPerS.at(-1)).toBe(steps - 1);
  });

  it('drops points older than the window after a long gap even when the ring is not full', () => {
    const store = new HistoryStore({ file: join(dir, 'history.json') });
    store.record(sample(), T0);
    store.record(sample(), T0 + 1000);
    expect(store.series('10m', T0 + 11 * 60_000).tMs).toEqual([]);
    expect(store.series('24h', T0 + 11 * 60_000).tMs).toEqual([T0]);
  });
});

describe('HistoryStore persistence', () => {
  it('survives a restart, open buckets included', () => {
    const file = join(dir, 'nested', 'history.json');
    const first = new HistoryStore({ file, now: () => T0 });
    first.start();
    for (let s = 0; s < 30; s++) first.record(sample({ gpuLoadPct: 100, validatedTokens: s }), T0 + s * 1000);
    first.dispose();
    expect(existsSync(file)).toBe(true);

    const second = new HistoryStore({ file, now: () => T0 });
    second.start();
    for (let s = 30; s < 60; s++) second.record(sample({ gpuLoadPct: 0, validatedTokens: s }), T0 + s * 1000);
    const minute = second.series('24h', T0 + 59_000);
    expect(minute.tMs).toEqual([T0]);
    expect(minute.values.gpuLoadPct).toEqual([50]);
    expect(minute.values.validatedTokens).toEqual([59]);
    expect(second.series('10m', T0 + 59_000).tMs).toHaveLength(60);
    second.dispose();
  });

  it('saves on its interval', async () => {
    vi.useFakeTimers();
    const file = join(dir, 'history.json');
    const store = new HistoryStore({ file, saveIntervalMs: 10_000 });
    store.start();
    store.record(sample(), T0);
    expect(existsSync(file)).toBe(false);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(JSON.parse(readFileSync(file, 'utf8')).tiers['10m'].open.startMs).toBe(T0);
    store.dispose();
  });

  it.each([
    ['torn JSON', '{"version":1,"metrics":["gpuLo'],
    ['a different shape', JSON.stringify({ version: 1, metrics: ['gpuLoadPct'], tiers: {} })],
    ['a future version', JSON.stringify({ version: 2 })],
  ])('moves a file holding %s aside and starts empty', (_what, content) => {
    const file = join(dir, 'history.json');
    writeFileSync(file, content);
    const { logger, lines } = warnings();
    const store = new HistoryStore({ file, now: () => T0, logger });
    store.start();
    expect(store.series('10m', T0).tMs).toEqual([]);
    expect(readFileSync(join(dir, `history.json.corrupt-${T0}`), 'utf8')).toBe(content);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/unreadable .*moved it to .*history\.json\.corrupt-/);
    store.record(sample(), T0);
    store.dispose();
    expect(readdirSync(dir).sort()).toEqual(['history.json', `history.json.corrupt-${T0}`]);
  });
});

describe('RingBuffer', () => {
  it('drops the oldest item when full', () => {
    const ring = new RingBuffer<number>(3);
    for (const n of [1, 2, 3, 4, 5]) ring.push(n);
    expect(ring.toArray()).toEqual([3, 4, 5]);
    expect(ring.size).toBe(3);
  });
});

describe('HistorySampler', () => {
  it('charts the snapshot figures (GPUs averaged, power summed) and answers in the wire shape, money in nano-COMAI', () => {
    const store = new HistoryStore({ file: join(dir, 'history.json'), now: () => 10_000 });
    const gpu = (index: number, utilizationPct: number, tempC: number, powerW: number) => ({
      index,
      name: `card ${index}`,
      driver: null,
      utilizationPct,
      memoryUsedMiB: null,
      memoryTotalMiB: null,
      tempC,
      powerW,
      powerLimitW: null,
      fanPct: null,
      smClockMHz: null,
      memClockMHz: null,
    });
    let current = snapshotFixture();
    current = {
      ...current,
      gpu: { ...current.gpu, gpus: [gpu(0, 100, 70, 200), gpu(1, 50, 60, 100)] },
      tokensPerS: 900,
      earnings: { ...current.earnings, earnedNano: '2500000000' },
      tokens: { ...current.tokens, validated: 42 },
    };
    const sampler = new HistorySampler({ store, snapshot: () => current });
    sampler.sample();
    const series = sampler.series('10m');
    expect(HistorySeries.parse(series)).toEqual(series);
    expect(series.series).toMatchObject({
      gpuLoadPct: [75],
      tempC: [65],
      powerW: [300],
      tokensPerS: [900],
      earnedNano: [2_500_000_000],
      validatedTokens: [42],
    });
  });
});
