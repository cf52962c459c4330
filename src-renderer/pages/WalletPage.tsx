import { useEffect, useRef } from 'react';
import { Empty } from '../components/Empty';
import { Stat } from '../components/Stat';
import { formatComai, formatTime, formatTokens } from '../format';
import { creditWords, EarningsStats, paysNoOne } from '../components/EarningsStats';
import { useInvoke } from '../hooks/use-invoke';
import { useStore } from '../store';
import { useBridge } from '../bridge-context';
import { BalancePanel, KeyPanel, PayoutLinkPanel } from '../wallet';

const STATUS_WORDS = { submitted: 'Submitted', validated: 'Validated', rejected: 'Rejected', credited: 'Credited' } as const;

export function WalletPage() {
  const validator = useStore((s) => s.snapshot!.validator);
  const earnings = useStore((s) => s.snapshot!.earnings);
  const tokens = useStore((s) => s.snapshot!.tokens);
  const local = paysNoOne(validator);
  const ledger = useInvoke('validator:ledger', {}, 15_000);
  const status = useInvoke('wallet:status', {}, 5_000);
  const { miningAddress, payoutAddress, payoutLinked } = useStore((s) => s.snapshot!.wallet);
  const refreshStatus = status.refresh;
  const shown = useRef(`${miningAddress}|${payoutAddress}|${payoutLinked}`);
  // The key or the link changed in main (an action on this page or elsewhere): show it now, not at the next poll.
  useEffect(() => {
    const now = `${miningAddress}|${payoutAddress}|${payoutLinked}`;
    if (now === shown.current) return;
    shown.current = now;
    refreshStatus();
  }, [refreshStatus, miningAddress, payoutAddress, payoutLinked]);
  const { invoke } = useBridge();

  return (
    <section aria-labelledby="wallet-title" className="page">
      <h1 id="wallet-title">Wallet</h1>
      {status.error && <Empty tone="error">{status.error.message}</Empty>}
      {status.value ? (
        <div className="two-col">
          <KeyPanel wallet={status.value} invoke={invoke} />
          <PayoutLinkPanel
            wallet={status.value}
            invoke={invoke}
            localValidator={validator.mode === 'embedded'}
            {...(window.nya ? {} : { openLink: (url: string) => void window.open(url, '_blank', 'noopener,noreferrer') })}
          />
        </div>
      ) : (
        !status.error && <Empty>Loading the wallet…</Empty>
      )}
      {status.value && <BalancePanel balance={status.value.balance} invoke={invoke} />}
      {local && validator.signingAddress && (
        <p className="muted">
          Signing for the local validator as{' '}
          <span className="mono" data-testid="mining-address">
            {validator.signingAddress}
          </span>{' '}
          (a local identity).
        </p>
      )}
      <EarningsStats earnings={earnings} local={local} />
      <div className="stats">
        <Stat label="Validated" value={formatTokens(tokens.validated)} />
        <Stat label="Pending" value={formatTokens(tokens.pending)} />
      </div>
      <h2>Earnings ledger</h2>
      {ledger.error && <Empty tone="error">Could not load the ledger: {ledger.error.message}</Empty>}
      {!ledger.value ? (
        !ledger.error && <Empty>Loading…</Empty>
      ) : ledger.value.entries.length === 0 ? (
        <Empty>No submitted work yet.</Empty>
      ) : (
        <table className="table" data-testid="ledger">
          <thead>
            <tr>
              <th scope="col">Submitted</th>
              <th scope="col">Task</th>
              <th scope="col" className="num">
                Tokens
              </th>
              <th scope="col">Status</th>
              <th scope="col" className="num">
                Credit{local ? ' (local test)' : ''}
              </th>
            </tr>
          </thead>
          <tbody>
            {ledger.value.entries.map((e) => (
              <tr key={e.taskId}>
                <td>{formatTime(e.submittedAtMs)}</td>
                <td className="mono">{e.taskId}</td>
                <td className="num">{formatTokens(e.tokens)}</td>
                <td className={e.status === 'rejected' ? 'error-text' : undefined}>
                  {STATUS_WORDS[e.status]}
                  {e.reason ? ` — ${e.reason}` : ''}
                </td>
                <td className="num">
                  {formatComai(e.creditedNano, 6)}
                  {e.credit && e.credit !== 'none' && <div className="stat-hint">{creditWords(e.credit, e.creditFinalAtMs)}</div>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
