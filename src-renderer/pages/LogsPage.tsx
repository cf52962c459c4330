import { useMemo, useState } from 'react';
import type { LogLevel } from '../../src-shared/state';
import { Empty } from '../components/Empty';
import { useStore } from '../store';

const LEVELS: LogLevel[] = ['debug', 'info', 'warn', 'error'];

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

  async function copy(): Promise<void> {
    const text = shown.map((l) => `${new Date(l.atMs).toISOString()} ${l.level.toUpperCase()} [${l.source}] ${l.message}`).join('\n');
    try {
      await navigator.clipboard.writeText(text);
      setCopied(`Copied ${shown.length} lines.`);
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
        <ol className="logs" data-testid="logs" aria-label="Log lines">
          {shown.map((l) => (
            <li key={l.seq} className={`log log-${l.level}`}>
              <time dateTime={new Date(l.atMs).toISOString()}>{new Date(l.atMs).toLocaleTimeString()}</time>
              <span className="log-level">{l.level}</span>
              <span className="log-source">{l.source}</span>
              <span className="log-message">{l.message}</span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
