import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { LogLevel } from '../../src-shared/state';
import type { LogRecord, LogSink } from '../../src-node/log';

export interface RotatingLogOptions {
  dir: string;
  /** `main` → main.log, main.1.log … main.(maxFiles-1).log */
  baseName?: string;
  maxBytes?: number;
  maxFiles?: number;
}

/** One log line: UTC time, level, source, message; newlines in a message stay inside its line. */
export function formatLogLine(record: LogRecord): string {
  const message = record.message.replace(/\r?\n/g, `\n${CONTINUATION}`);
  return `${new Date(record.atMs).toISOString()} ${record.level.toUpperCase().padEnd(5)} [${record.source}] ${message}\n`;
}

const LINE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (DEBUG|INFO|WARN|ERROR) +\[([^\]]*)\] (.*)$/;
const CONTINUATION = '    ';

/** The records in log-file text (the inverse of `formatLogLine`); lines in another format are skipped. */
export function parseLogText(text: string): LogRecord[] {
  const records: LogRecord[] = [];
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (m) {
      records.push({ atMs: Date.parse(m[1]!), level: m[2]!.toLowerCase() as LogLevel, source: m[3]!, message: m[4]! });
    } else if (line.startsWith(CONTINUATION) && records.length > 0) {
      records[records.length - 1]!.message += `\n${line.slice(CONTINUATION.length)}`;
    }
  }
  return records;
}

/**
 * Rotating log files for the desktop app (userData/logs): size-based, `maxFiles` files of
 * `maxBytes` each, newest in `main.log`. Writes are synchronous so the lines before a crash are on
 * disk; a failing disk disables the sink after one note on stderr rather than throwing into the
 * service that logged. Free of Electron so it is tested in Node.
 */
export class RotatingFileLog {
  private fd: number | null = null;
  private size = 0;
  private broken = false;
  readonly dir: string;
  private readonly baseName: string;
  private readonly maxBytes: number;
  private readonly maxFiles: number;

  constructor(o: RotatingLogOptions) {
    this.dir = o.dir;
    this.baseName = o.baseName ?? 'main';
    this.maxBytes = o.maxBytes ?? 1024 * 1024;
    this.maxFiles = Math.max(1, o.maxFiles ?? 5);
  }

  /** The newest file first. */
  files(): string[] {
    return Array.from({ length: this.maxFiles }, (_, i) => this.fileAt(i)).filter((f) => existsSync(f));
  }

  /** The last `count` records on disk (newest last), e.g. the previous run's, for the Logs page. */
  recent(count: number): LogRecord[] {
    const records: LogRecord[] = [];
    for (const file of this.files()) {
      records.unshift(...parseLogText(readFileSync(file, 'utf8')));
      if (records.length >= count) break;
    }
    return records.slice(-count);
  }

  readonly sink: LogSink = (record) => this.write(formatLogLine(record));

  write(line: string): void {
    if (this.broken) return;
    try {
      const bytes = Buffer.from(line, 'utf8');
      if (this.fd === null) this.open();
      if (this.size > 0 && this.size + bytes.length > this.maxBytes) this.rotate();
      writeSync(this.fd!, bytes);
      this.size += bytes.length;
    } catch (error) {
      this.broken = true;
      process.stderr.write(`log files disabled: ${(error as Error).message}\n`);
    }
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  private fileAt(index: number): string {
    return join(this.dir, index === 0 ? `${this.baseName}.log` : `${this.baseName}.${index}.log`);
  }

  private open(): void {
    mkdirSync(this.dir, { recursive: true });
    this.fd = openSync(this.fileAt(0), 'a', 0o600);
    this.size = fstatSync(this.fd).size;
  }

  private rotate(): void {
    this.close();
    rmSync(this.fileAt(this.maxFiles - 1), { force: true });
    for (let i = this.maxFiles - 2; i >= 0; i--) {
      if (existsSync(this.fileAt(i))) renameSync(this.fileAt(i), this.fileAt(i + 1));
    }
    this.open();
  }
}
