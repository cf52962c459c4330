import { useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { LogLevel } from '../../src-shared/state';
import { Empty } from '../components/Empty';
import { plural } from '../format';
import { useStore } from '../store';

const LEVELS: LogLevel[] = ['debug', 'info', 'warn', 'error'];
/** How close to the end (px) still counts as "at the newest line": sub-pixel scroll positions and zoom. */
const AT_END_PX = 16;

/**
 * Keeps a scrolled list at its newest (last) line while the user is there, as a terminal does:
 * scrolling up stops following, `jumpToNewest` (or scrolling back down) starts it again.
 */
function useFollowNewest<T extends HTMLElement>(newest: unknown) {
  const ref = useRef<T>(null);
  const [following, setFollowing] = useState(true);
  useLayoutEffect(() => {
    const el = ref.current;
    if (following && el) el.scrollTop = el.scrollHeight;
  }, [newest, following]);
  const onScroll = () => {
    const el = ref.current;
    if (el) setFollowing(el.scrollHeight - el.scrollTop - el.clientHeight <= AT_END_PX);
  };
  return { ref, following, onScroll, jumpToNewest: () => setFollowing(true) };
}

/** Streams the log lines carried by the state push; the filter and search run over them here. */
export function LogsPage() {
  const logs = useStore((s) => s.snapshot!.logs);
  const [minLevel, setMinLevel] = useState<LogLevel>('info');
  const [search, setSearch] = useState('');
  const [copied, setCopied] = useState<string | null>(null);
  const shown = useMemo(() => {
    const min = LEVELS.indexOf(minLevel);
    const needle = search.toLowerCase();
    return logs.filter((l) => LEVELS.indexOf(l.level) >= min && (!needle || `${l.source} ${l.message}`.toLowerCase().includes(needle)));
  }, [logs, minLevel, search]);
  const follow = useFollowNewest<HTMLOListElement>(shown.at(-1)?.seq);

  async function copy(): Promise<void> {
    const text = shown.map((l) => `${new Date(l.atMs).toISOString()} ${l.level.toUpperCase()} [${l.source}] ${l.message}`).join('\n');
    try {
      await navigator.clipboard.writeText(text);
      setCopied(`Copied ${plural(shown.length, 'line')}.`);
    } catch {
      setCopied('The browser refused clipboard access; select the lines and copy them instead.');
    }
  }

  return (
    <section aria-labelledby="logs-title" className="page">
      <header className="page-header">
        <h1 id="logs-title">Logs</h1>
        <div className="toolbar">
          <label>
            Level{' '}
            <select value={minLevel} onChange={(e) => setMinLevel(e.target.value as LogLevel)}>
              {LEVELS.map((l) => (
                <option key={l} value={l}>
                  {l} and above
                </option>
              ))}
            </select>
          </label>
          <label>
            Search <input type="search" value={search} onChange={(e) => setSearch(e.target.value)} />
          </label>
          <button type="button" onClick={() => void copy()} disabled={shown.length === 0}>
            Copy
          </button>
          {copied && <span role="status">{copied}</span>}
        </div>
      </header>
      {shown.length === 0 ? (
        <Empty>No log lines{search ? ' match' : ' yet'}.</Empty>
      ) : (
        <div className="logs-view">
          <ol className="logs" data-testid="logs" aria-label="Log lines" ref={follow.ref} onScroll={follow.onScroll}>
            {shown.map((l) => (
              <li key={l.seq} className={`log log-${l.level}`}>
                <time dateTime={new Date(l.atMs).toISOString()}>{new Date(l.atMs).toLocaleTimeString()}</time>
                <span className="log-level">{l.level}</span>
                <span className="log-source" title={l.source}>
                  {l.source}
                </span>
                <span className="log-message">{l.message}</span>
              </li>
            ))}
          </ol>
          {!follow.following && (
            <button type="button" className="jump-newest" onClick={follow.jumpToNewest}>
              Jump to newest ↓
            </button>
          )}
        </div>
      )}
    </section>
  );
}
