import { useEffect, useRef } from 'react';
import { Empty } from '../components/Empty';
import { TokensStat } from '../components/Stat';
import { EarningsLedger } from '../components/EarningsLedger';
import { EarningsStats, paysNoOne } from '../components/EarningsStats';
import { useInvoke } from '../hooks/use-invoke';
import { useStore } from '../store';
import { useBridge } from '../bridge-context';
import { BalancePanel, KeyPanel, PayoutLinkPanel } from '../wallet';

export function WalletPage() {
  const validator = useStore((s) => s.snapshot!.validator);
  const earnings = useStore((s) => s.snapshot!.earnings);
  const tokens = useStore((s) => s.snapshot!.tokens);
  const local = paysNoOne(validator);
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
        <TokensStat label="Validated" tokens={tokens.validated} />
        <TokensStat label="Pending" tokens={tokens.pending} />
      </div>
      <EarningsLedger local={local} />
    </section>
  );
}
