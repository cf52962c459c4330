import type { LogLevel } from '../src-shared/state';

/**
 * The one logging port every service takes. Sinks (the in-memory ring the dashboard shows, stderr
 * in headless mode, rotating files in the desktop app) attach to a `LogHub`; services only see
 * `Logger`. Secrets never go into a log line: services log addresses, never keys.
 */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  /** A logger whose lines carry `source` (e.g. "teacher", "validator-client"). */
  child(source: string): Logger;
}

export interface LogRecord {
  atMs: number;
  level: LogLevel;
  source: string;
  message: string;
}

export type LogSink = (record: LogRecord) => void;

export class LogHub {
  private readonly sinks = new Set<LogSink>();
  constructor(private readonly now: () => number = Date.now) {}

  attach(sink: LogSink): () => void {
    this.sinks.add(sink);
    return () => this.sinks.delete(sink);
  }

  logger(source: string): Logger {
    const emit = (level: LogLevel) => (message: string) => {
      const record = { atMs: this.now(), level, source, message };
      for (const sink of this.sinks) sink(record);
    };
    return {
      debug: emit('debug'),
      info: emit('info'),
      warn: emit('warn'),
      error: emit('error'),
      child: (child) => this.logger(`${source}/${child}`),
    };
  }
}

/** For tests and tools that need a Logger and nothing else. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
};

/** "Error: x" → "x", keeping the message a user reads free of stack noise. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  // A WebSocket's ErrorEvent (ws, as @polkadot/api's provider rejects with) is no Error but has a message.
  if (typeof error === 'object' && error !== null && 'message' in error && typeof error.message === 'string') return error.message;
  return String(error);
}
