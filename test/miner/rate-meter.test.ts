import { describe, expect, it } from 'vitest';
import { RateMeter } from '../../src-main/miner/rate-meter';

function meter(windowMs = 20_000) {
  const clock = { nowMs: 0 };
  return { clock, rate: new RateMeter(windowMs, () => clock.nowMs) };
}

describe('RateMeter', () => {
  it('spreads a report over the time the work took: 12,000 tokens in 4 s read 3,000 tok/s, not 12,000', () => {
    const { clock, rate } = meter();
    clock.nowMs = 4_000;
    rate.add(12_000, 0);
    expect(rate.perSecond()).toBeCloseTo(3_000);
  });

  it('reads a steady speed as that speed at every moment, also when old reports leave the window', () => {
    const { clock, rate } = meter();
    let lastMs = 0;
    const readings: number[] = [];
    for (let t = 4_000; t <= 60_000; t += 4_000) {
      clock.nowMs = t;
      rate.add(12_000, lastMs);
      lastMs = t;
      readings.push(rate.perSecond());
      clock.nowMs = t + 500;
      readings.push(rate.perSecond());
    }
    // Half a second into a batch its tokens are not reported yet: the reading is that much under the speed, never over.
    for (const r of readings) expect(r).toBeGreaterThan(2_600);
    for (const r of readings) expect(r).toBeLessThanOrEqual(3_000 + 1e-6);
  });

  it('falls to 0 once the window holds no work (a pause, a validator with no work)', () => {
    const { clock, rate } = meter();
    clock.nowMs = 4_000;
    rate.add(12_000, 0);
    clock.nowMs = 14_000;
    expect(rate.perSecond()).toBeCloseTo(12_000 / 14);
    clock.nowMs = 4_000 + 20_001;
    expect(rate.perSecond()).toBe(0);
  });
});
