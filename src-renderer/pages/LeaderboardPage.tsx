import { useState } from 'react';
import type { LeaderboardRow } from '../../src-shared/protocol';
import { Empty } from '../components/Empty';
import { formatPct, formatTokens, plural } from '../format';
import { useInvoke } from '../hooks/use-invoke';
import { useStore } from '../store';

const PAGE_SIZE = 25;

function shortAddress(address: string): string {
  return address.length > 16 ? `${address.slice(0, 6)}…${address.slice(-6)}` : address;
}

function Row({ row, mine }: { row: LeaderboardRow; mine: boolean }) {
  return (
    <tr className={mine ? 'mine' : undefined} aria-current={mine ? 'true' : undefined}>
      <td>{row.rank}</td>
      <td>{row.name || '—'}</td>
      <td className="mono" title={row.address}>
        {shortAddress(row.address)}
      </td>
      <td className="num">{formatTokens(row.validatedTokens)}</td>
      <td className="num">{formatPct(row.share)}</td>
      <td>{row.gpuClass ?? '—'}</td>
    </tr>
  );
}

export function LeaderboardPage() {
  const [page, setPage] = useState(1);
  const [gpuClass, setGpuClass] = useState('');
  const myAddress = useStore((s) => s.snapshot?.validator.signingAddress ?? null);
  const request = gpuClass ? { page, pageSize: PAGE_SIZE, gpuClass } : { page, pageSize: PAGE_SIZE };
  const { value, error, loading, refresh } = useInvoke('validator:leaderboard', request, 30_000);
  const board = value?.board;
  const pages = board ? Math.max(1, Math.ceil(board.total / board.pageSize)) : 1;
  const me = value?.me ?? null;
  const meOnPage = !!board?.rows.some((r) => r.address === myAddress);

  return (
    <section aria-labelledby="leaderboard-title" className="page">
      <header className="page-header">
        <h1 id="leaderboard-title">Leaderboard</h1>
        <div className="toolbar">
          <label>
            GPU class{' '}
            <input
              value={gpuClass}
              placeholder="all"
              maxLength={64}
              onChange={(e) => {
                setGpuClass(e.target.value.trim());
                setPage(1);
              }}
            />
          </label>
          <button type="button" onClick={refresh} disabled={loading}>
            Refresh
          </button>
        </div>
      </header>
      {error && <Empty tone="error">The validator could not be reached: {error.message}</Empty>}
      {!board ? (
        !error && <Empty>Loading…</Empty>
      ) : board.rows.length === 0 ? (
        <Empty>No validated work in this epoch yet{gpuClass ? ` for “${gpuClass}”` : ''}.</Empty>
      ) : (
        <table className="table" data-testid="leaderboard">
          <caption className="sr-only">Miners ranked by validated tokens in the current epoch</caption>
          <thead>
            <tr>
              <th scope="col">Rank</th>
              <th scope="col">Name</th>
              <th scope="col">Address</th>
              <th scope="col" className="num">
                Validated
              </th>
              <th scope="col" className="num">
                Share
              </th>
              <th scope="col">GPU</th>
            </tr>
          </thead>
          <tbody>
            {me && !meOnPage && <Row row={me} mine />}
            {board.rows.map((row) => (
              <Row key={row.address} row={row} mine={row.address === myAddress} />
            ))}
          </tbody>
        </table>
      )}
      {board && (
        <nav className="pager" aria-label="Leaderboard pages">
          <button type="button" disabled={page <= 1} onClick={() => setPage(page - 1)}>
            Previous
          </button>
          <span>
            Page {board.page} of {pages} · {plural(board.total, 'miner')}
          </span>
          <button type="button" disabled={page >= pages} onClick={() => setPage(page + 1)}>
            Next
          </button>
        </nav>
      )}
    </section>
  );
}
