import type { LogLevel, LogLine } from '../../src-shared/state';
import type { LogRecord } from '../../src-node/log';

const LEVEL_RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** The recent log lines main keeps in memory: the Logs page and the snapshot's tail read them. */
export class LogRing {
  private readonly lines: LogLine[] = [];
  private seq = 0;

  constructor(private readonly capacity = 2000) {}

  /** A `LogSink` for `LogHub.attach`. */
  readonly sink = (record: LogRecord): void => {
    this.lines.push({ seq: ++this.seq, ...record });
    if (this.lines.length > this.capacity) this.lines.splice(0, this.lines.length - this.capacity);
  };

  tail(count: number): LogLine[] {
    return this.lines.slice(-count);
  }

  query(opts: { minLevel?: LogLevel; search?: string; limit?: number }): LogLine[] {
    const min = LEVEL_RANK[opts.minLevel ?? 'debug'];
    const needle = opts.search?.toLowerCase();
    const matching = this.lines.filter(
      (l) => LEVEL_RANK[l.level] >= min && (!needle || l.message.toLowerCase().includes(needle) || l.source.toLowerCase().includes(needle)),
    );
    return matching.slice(-(opts.limit ?? 500));
  }

  get lastSeq(): number {
    return this.seq;
  }
}
