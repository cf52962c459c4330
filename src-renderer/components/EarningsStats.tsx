import type { CREDIT_STATES } from '../../src-shared/protocol';
import type { Earnings, StateSnapshot } from '../../src-shared/state';
import { formatComai, formatPct, formatTime } from '../format';
import { Stat } from './Stat';

/** Whether the figures are money: the embedded validator signs as a local identity and pays no one. */
export function paysNoOne(validator: StateSnapshot['validator']): boolean {
  return validator.mode === 'embedded';
}

/** The one sentence every earnings view shows in local mode. */
const LOCAL_CREDIT_NOTE =
  'Local test credit: the local validator pays no one. It counts your work as a real validator would, so you can see the figures move.';

/** How each ledger row's credit reads, beside its amount (the row of an open epoch shrinks as the epoch fills). */
export function creditWords(credit: (typeof CREDIT_STATES)[number] | undefined, finalAtMs: number | null | undefined): string {
  const at = finalAtMs ? formatTime(finalAtMs) : null;
  switch (credit) {
    case 'projected':
      return at ? `projected share, epoch open until ${at}` : 'projected share of the open epoch';
    case 'settling':
      return at ? `settling until ${at}` : 'settling';
    case 'settled':
      return 'final';
    default:
      return '';
  }
}

/**
 * The earnings figures as main defines them (src-main/miner/earnings.ts): credited, settling,
 * projected for the open epoch with its end, and the rate at the current share. Dashboard and
 * Wallet page show this one component, so they cannot say different things.
 */
export function EarningsStats({ earnings, local }: { earnings: Earnings; local: boolean }) {
  const unit = local ? ' (local test)' : '';
  return (
    <>
      {local && (
        <p className="muted" data-testid="local-credit-note">
          {LOCAL_CREDIT_NOTE}
        </p>
      )}
      <div className="stats" data-testid="earnings">
        <Stat
          label={`Credited${unit}`}
          value={formatComai(earnings.creditedNano)}
          hint="settled epochs: final"
          testId="earnings-credited"
        />
        <Stat
          label={`Settling${unit}`}
          value={formatComai(earnings.settlingNano)}
          hint={earnings.settlesAtMs ? `final at ${formatTime(earnings.settlesAtMs)} unless revoked` : 'closed epochs still settling'}
          testId="earnings-settling"
        />
        <Stat
          label={`This epoch, projected${unit}`}
          value={formatComai(earnings.projectedNano)}
          hint={`share ${formatPct(earnings.epochShare)}${earnings.epochEndsAtMs ? ` · epoch ends ${formatTime(earnings.epochEndsAtMs)}` : ''}`}
          testId="earnings-projected"
        />
        <Stat
          label={`Rate at this share${unit}`}
          value={earnings.perHourNano === null ? '—' : `${formatComai(earnings.perHourNano)} / h`}
          hint={earnings.perDayNano === null ? 'no validated work in the open epoch yet' : `${formatComai(earnings.perDayNano)} / day`}
          testId="earnings-rate"
        />
      </div>
    </>
  );
}
