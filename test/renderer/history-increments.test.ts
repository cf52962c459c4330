import { describe, expect, it } from 'vitest';
import { increments } from '../../src-renderer/components/HistoryChart';
import { emptyHistory } from './fixtures';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const DAY0 = Date.parse('2026-11-25T00:00:00Z');

/** The 30-day tier's hourly points of the cumulative earnings (nano), each bucket's last value. */
function hourly(points: [hour: number, earnedNano: number][]) {
  const series = emptyHistory('30d');
  series.tMs = points.map(([hour]) => DAY0 + hour * HOUR_MS);
  series.series.earnedNano = points.map(([, nano]) => nano);
  return series;
}

describe('earnings per hour and per day', () => {
  it('counts the first hour of a new miner in both charts: a day is the sum of its hours', () => {
    // Mining started in hour 10: 1 COMAI by its end, 3 by hour 12.
    const data = hourly([
      [10, 1e9],
      [11, 2e9],
      [12, 3e9],
    ]);
    const perHour = increments(data, 'earnedNano', HOUR_MS, 1e-9, DAY0 + 12 * HOUR_MS - DAY_MS);
    const perDay = increments(data, 'earnedNano', DAY_MS, 1e-9, DAY0 + 12 * HOUR_MS - 30 * DAY_MS);
    expect(perHour.map((p) => p.v)).toEqual([1, 1, 1]);
    expect(perDay).toEqual([{ t: DAY0, v: 3 }]);
  });

  it('takes what was earned before the window as the baseline, not as the first bar', () => {
    const data = hourly([
      [0, 5e9],
      [30, 6e9],
      [31, 8e9],
    ]);
    const perHour = increments(data, 'earnedNano', HOUR_MS, 1e-9, DAY0 + 31 * HOUR_MS - DAY_MS);
    expect(perHour.map((p) => p.v)).toEqual([1, 2]);
  });
});
