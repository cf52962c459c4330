import { describe, expect, it } from 'vitest';
import { ThermalGovernor, restAfterBatchMs, type GovernorConfig } from '../../src-main/thermal/governor';

/**
 * A simulated GPU: power follows duty at once (idle 30 W, full 350 W); the die temperature is a
 * first-order lag toward ambient + R·P (R = 0.2 °C/W, τ = 30 s, so full load settles at 100 °C
 * from 30 °C ambient); the sensor reads whole degrees through a 2 s lag, and power reads ±3 W of
 * noise from a fixed-seed generator so runs repeat exactly.
 */
function simulate(config: GovernorConfig, seconds: number, opts: { ambientC?: (t: number) => number } = {}) {
  const governor = new ThermalGovernor(config);
  const ambient = opts.ambientC ?? (() => 30);
  let dieC = 35;
  let sensorC = dieC;
  let seed = 12345;
  const noise = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 6;
  const trace: { t: number; dieC: number; powerW: number; duty: number }[] = [];
  for (let t = 0; t < seconds; t++) {
    const powerW = 30 + governor.output.duty * 320;
    dieC += (ambient(t) + 0.2 * powerW - dieC) / 30;
    sensorC += (dieC - sensorC) / 2;
    governor.update({ tempC: Math.round(sensorC), powerW: powerW + noise() }, 1);
    trace.push({ t, dieC, powerW, duty: governor.output.duty });
  }
  return trace;
}

const after = <T extends { t: number }>(trace: T[], t: number) => trace.filter((p) => p.t >= t);
const spread = (values: number[]) => Math.max(...values) - Math.min(...values);

describe('ThermalGovernor against a simulated GPU', () => {
  it('holds the temperature under the limit without oscillating', () => {
    const trace = simulate({ maxTempC: 80, maxPowerW: null }, 900);
    const settled = after(trace, 400);
    expect(Math.max(...trace.map((p) => p.dieC))).toBeLessThan(82); // brief overshoot at most
    expect(Math.max(...settled.map((p) => p.dieC))).toBeLessThanOrEqual(80);
    // Steady state needs duty ≈ (77 − 30 − 6)/64 ≈ 0.64 for the 77 °C target.
    const duties = settled.map((p) => p.duty);
    expect(duties.at(-1)!).toBeGreaterThan(0.55);
    expect(duties.at(-1)!).toBeLessThan(0.7);
    expect(spread(duties)).toBeLessThan(0.08);
  });

  it('holds the power under the limit', () => {
    const trace = simulate({ maxTempC: null, maxPowerW: 200 }, 300);
    const settled = after(trace, 60);
    expect(Math.max(...settled.map((p) => p.powerW))).toBeLessThanOrEqual(200);
    expect(Math.min(...settled.map((p) => p.powerW))).toBeGreaterThan(180);
    expect(spread(settled.map((p) => p.duty))).toBeLessThan(0.05);
  });

  it('obeys whichever limit binds', () => {
    // 150 W binds long before 85 °C (150 W settles at 60 °C).
    const settled = after(simulate({ maxTempC: 85, maxPowerW: 150 }, 600), 300);
    expect(Math.max(...settled.map((p) => p.powerW))).toBeLessThanOrEqual(150);
    expect(Math.max(...settled.map((p) => p.dieC))).toBeLessThan(70);
  });

  it('recovers to full duty when the room cools', () => {
    // A hot room (45 °C) forces throttling; at 10 minutes it drops to 0 °C, where full load
    // settles at 70 °C, well under the 77 °C target.
    const trace = simulate({ maxTempC: 80, maxPowerW: null }, 1500, { ambientC: (t) => (t < 600 ? 45 : 0) });
    expect(trace.find((p) => p.t === 599)!.duty).toBeLessThan(0.5);
    expect(after(trace, 1200).every((p) => p.duty === 1)).toBe(true);
  });

  it('stays at full duty with no limits or no readings', () => {
    const governor = new ThermalGovernor({ maxTempC: 80, maxPowerW: 200 });
    expect(governor.update({ tempC: null, powerW: null }, 1).duty).toBe(1);
    const free = new ThermalGovernor({ maxTempC: null, maxPowerW: null });
    expect(free.update({ tempC: 99, powerW: 999 }, 1)).toEqual({ duty: 1, batchScale: 1, limitedBy: null });
  });

  it('shrinks batches only below half duty and never under the floor', () => {
    const governor = new ThermalGovernor({ maxTempC: 60, maxPowerW: null, minDuty: 0.1, minBatchScale: 0.25 });
    let output = governor.output;
    for (let i = 0; i < 300; i++) output = governor.update({ tempC: 95, powerW: null }, 1);
    expect(output).toEqual({ duty: 0.1, batchScale: 0.25, limitedBy: 'temperature' });
  });
});

describe('restAfterBatchMs', () => {
  it('rests so that compute time over total time equals the duty', () => {
    expect(restAfterBatchMs(400, 1)).toBe(0);
    const rest = restAfterBatchMs(400, 0.25);
    expect(400 / (400 + rest)).toBeCloseTo(0.25, 12);
  });
});
