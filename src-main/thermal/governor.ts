/**
 * Thermal and power governor: keeps the GPU under the user's °C and W by duty cycling (compute a
 * batch, rest a while) and, at low duty, smaller batches so the on/off bursts stay short.
 *
 * One incremental PI controller per limit, both stepping from the duty actually applied, and the
 * lower proposal wins. Stepping from the applied duty is the anti-windup: the limit that is not
 * binding cannot run away while the other one rules. Temperature responds slowly (tens of
 * seconds, the board's thermal mass), so it gets a proportional term to act early and a gentle
 * integral; power follows duty within a poll, so it is integral-only with a gain that stays
 * stable even when the limit is a third of the board's draw.
 *
 * The governor aims a margin below the limits; the mining policy's hard stop sits at the limits
 * themselves, so the two never fight.
 */
export interface GovernorConfig {
  maxTempC: number | null;
  maxPowerW: number | null;
  /** Aim this far under maxTempC. */
  tempMarginC?: number;
  /** Aim this fraction under maxPowerW. */
  powerMarginFraction?: number;
  minDuty?: number;
  minBatchScale?: number;
}

export interface GovernorReading {
  tempC: number | null;
  powerW: number | null;
}

export interface GovernorOutput {
  /** Fraction of time spent computing, minDuty..1. */
  duty: number;
  /** Multiplier on the batch size, minBatchScale..1. */
  batchScale: number;
  /** The limit holding the duty down, if any. */
  limitedBy: 'temperature' | 'power' | null;
}

const TEMP_KP_PER_C = 0.03;
const TEMP_KI_PER_C_S = 0.002;
const POWER_KI_PER_S = 0.3;

export class ThermalGovernor {
  private duty = 1;
  private lastTempErrorC: number | null = null;

  constructor(private readonly config: GovernorConfig) {}

  get output(): GovernorOutput {
    return this.shape(this.duty, null);
  }

  /** One control step with a fresh reading, `dtS` seconds after the previous one. */
  update(reading: GovernorReading, dtS: number): GovernorOutput {
    const dt = Math.min(Math.max(dtS, 0), 10); // a long gap (sleep, pause) must not cause a jump
    const proposals: { by: GovernorOutput['limitedBy']; duty: number }[] = [];
    const tempErrorC = this.tempError(reading.tempC);
    if (tempErrorC !== null) {
      const change = TEMP_KP_PER_C * (tempErrorC - (this.lastTempErrorC ?? tempErrorC)) + TEMP_KI_PER_C_S * tempErrorC * dt;
      proposals.push({ by: 'temperature', duty: this.duty + change });
    }
    this.lastTempErrorC = tempErrorC;
    const powerError = this.powerError(reading.powerW);
    if (powerError !== null) proposals.push({ by: 'power', duty: this.duty + POWER_KI_PER_S * powerError * dt });
    const lowest = proposals.reduce<(typeof proposals)[number] | null>((a, b) => (a && a.duty <= b.duty ? a : b), null);
    // No readings: drift back toward full duty rather than stay throttled on stale information.
    const next = lowest ? lowest.duty : this.duty + 0.05 * dt;
    this.duty = clamp(next, this.config.minDuty ?? 0.1, 1);
    return this.shape(this.duty, lowest && this.duty < 1 ? lowest.by : null);
  }

  reset(): void {
    this.duty = 1;
    this.lastTempErrorC = null;
  }

  /** °C of headroom under the target (negative: too hot). */
  private tempError(tempC: number | null): number | null {
    if (this.config.maxTempC === null || tempC === null) return null;
    return this.config.maxTempC - (this.config.tempMarginC ?? 3) - tempC;
  }

  /** Headroom under the power target as a fraction of the limit. */
  private powerError(powerW: number | null): number | null {
    const maxW = this.config.maxPowerW;
    if (maxW === null || powerW === null) return null;
    const targetW = maxW * (1 - (this.config.powerMarginFraction ?? 0.03));
    return (targetW - powerW) / maxW;
  }

  private shape(duty: number, limitedBy: GovernorOutput['limitedBy']): GovernorOutput {
    const minBatchScale = this.config.minBatchScale ?? 0.25;
    return { duty, batchScale: clamp(duty / 0.5, minBatchScale, 1), limitedBy };
  }
}

/** How long to rest after a batch that took `batchMs` so the time-average matches `duty`. */
export function restAfterBatchMs(batchMs: number, duty: number): number {
  return duty >= 1 ? 0 : (batchMs * (1 - duty)) / Math.max(duty, 1e-3);
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}
