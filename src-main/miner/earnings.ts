import type { MeResponse } from '../../src-shared/protocol';
import type { Earnings } from '../../src-shared/state';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** The share's resolution in the rate: a part per billion. */
const SHARE_SCALE = 1_000_000_000n;

/** The validator's figures this module reads (`GET /v1/me`). */
export type EarningsReport = Pick<
  MeResponse,
  'earnedNano' | 'settledNano' | 'settlingNano' | 'projectedNano' | 'settlesAtMs' | 'openEpoch' | 'epochShare'
>;

export const NO_EARNINGS: Earnings = {
  unit: 'COMAI',
  earnedNano: '0',
  creditedNano: '0',
  settlingNano: '0',
  settlesAtMs: null,
  projectedNano: '0',
  epochEndsAtMs: null,
  epochShare: null,
  perHourNano: null,
  perDayNano: null,
};

/**
 * The one definition of the earnings figures every view shows: credited (settled epochs, final),
 * settling (closed epochs, revocable until they settle), projected (the open epoch so far, until
 * its end), and a rate per hour and per day at the current share of the open epoch (as
 * Folding@home's points per day: what the present pace brings, not a promise). A validator older
 * than the split reports only the total and the settled part: the rest shows as projected.
 */
export function earningsFigures(report: EarningsReport): Earnings {
  const earned = BigInt(report.earnedNano);
  const credited = BigInt(report.settledNano ?? '0');
  const settling = BigInt(report.settlingNano ?? '0');
  const projected = report.projectedNano !== undefined ? BigInt(report.projectedNano) : earned - credited - settling;
  const epoch = report.openEpoch;
  const rate = (periodMs: number) => {
    if (!epoch || report.epochShare === null) return null;
    const share = BigInt(Math.round(report.epochShare * Number(SHARE_SCALE)));
    return ((BigInt(epoch.emissionNano) * share * BigInt(periodMs)) / (SHARE_SCALE * BigInt(epoch.endMs - epoch.startMs))).toString();
  };
  return {
    unit: 'COMAI',
    earnedNano: earned.toString(),
    creditedNano: credited.toString(),
    settlingNano: settling.toString(),
    settlesAtMs: report.settlesAtMs ?? null,
    projectedNano: projected.toString(),
    epochEndsAtMs: epoch?.endMs ?? null,
    epochShare: report.epochShare,
    perHourNano: rate(HOUR_MS),
    perDayNano: rate(DAY_MS),
  };
}
