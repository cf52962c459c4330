import { useState } from 'react';
import { formatComai, formatTime, formatTokens } from '../format';
import { useInvoke } from '../hooks/use-invoke';
import { creditWords } from './EarningsStats';
import { Empty } from './Empty';

/** Rows per ledger page: a miner submits a task every few seconds, so the ledger pages by the validator's cursor. */
const LEDGER_PAGE_ROWS = 20;
const STATUS_WORDS = { submitted: 'Submitted', validated: 'Validated', rejected: 'Rejected', credited: 'Credited' } as const;

/** The validator's per-task ledger, newest first, a page at a time (its `before` cursor). */
export function EarningsLedger({ local }: { local: boolean }) {
  // The cursors of the pages the user went back through; empty on the newest page.
  const [cursors, setCursors] = useState<string[]>([]);
  const before = cursors.at(-1);
  const ledger = useInvoke('validator:ledger', before ? { before, limit: LEDGER_PAGE_ROWS } : { limit: LEDGER_PAGE_ROWS }, 15_000);
  const next = ledger.value?.next ?? null;
  return (
    <>
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
      {(cursors.length > 0 || next) && (
        <nav className="pager" aria-label="Ledger pages">
          <button type="button" disabled={cursors.length === 0} onClick={() => setCursors(cursors.slice(0, -1))}>
            Newer
          </button>
          <span>Page {cursors.length + 1}</span>
          <button type="button" disabled={!next} onClick={() => next && setCursors([...cursors, next])}>
            Older
          </button>
        </nav>
      )}
    </>
  );
}
