import { Empty } from '../components/Empty';
import { formatComai, formatTime } from '../format';
import type { AccountBalance, BalanceState } from '../../src-shared/wallet-contract';
import { useWalletCall, type WalletInvoke } from './wallet-call';

function BalanceTable({ balances, labels }: { balances: AccountBalance[]; labels: Record<string, string> }) {
  return (
    <table className="table" data-testid="balances">
      <thead>
        <tr>
          <th scope="col">Account</th>
          <th scope="col" className="num">
            Free
          </th>
          <th scope="col" className="num">
            Staked
          </th>
        </tr>
      </thead>
      <tbody>
        {balances.map((b) => (
          <tr key={b.address}>
            <td>
              {labels[b.address] && <div className="muted">{labels[b.address]}</div>}
              <span className="mono">{b.address}</span>
            </td>
            <td className="num">{formatComai(b.freeNano)}</td>
            <td className="num" title={b.stakedNano === null ? 'This chain has no stake storage the app reads.' : undefined}>
              {b.stakedNano === null ? '—' : formatComai(b.stakedNano)}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** On-chain balances of the mining and payout accounts; offline is a line of text, not a dialog. */
export function BalancePanel({
  balance,
  invoke,
  labels = {},
}: {
  balance: BalanceState;
  invoke: WalletInvoke;
  labels?: Record<string, string>;
}) {
  const refresh = useWalletCall(invoke, 'wallet:refresh-balance');
  const shown = refresh.value ?? balance;
  return (
    <div className="card" aria-labelledby="balance-title">
      <h2 id="balance-title">Balance on Commune</h2>
      {shown.state === 'idle' && <Empty>No account to show yet: create or import a mining key.</Empty>}
      {shown.state === 'connecting' && <Empty>Connecting to {shown.endpoint}…</Empty>}
      {shown.state === 'online' && (
        <>
          <BalanceTable balances={shown.balances} labels={labels} />
          <p className="muted">
            As of {formatTime(shown.atMs)} from {shown.endpoint}
          </p>
        </>
      )}
      {shown.state === 'offline' && (
        <>
          <p className="notice" role="status" data-testid="balance-offline">
            Offline: {shown.error} Next try at {formatTime(shown.retryAtMs)}.
          </p>
          {shown.last && (
            <>
              <BalanceTable balances={shown.last.balances} labels={labels} />
              <p className="muted">Last read at {formatTime(shown.last.atMs)}</p>
            </>
          )}
        </>
      )}
      {refresh.error && <Empty tone="error">{refresh.error}</Empty>}
      {shown.state !== 'idle' && (
        <button type="button" onClick={() => void refresh.call({})} disabled={refresh.busy}>
          {refresh.busy ? 'Refreshing…' : 'Refresh now'}
        </button>
      )}
    </div>
  );
}
