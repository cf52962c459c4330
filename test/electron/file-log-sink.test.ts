import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RotatingFileLog, formatLogLine, parseLogText } from '../../src-main/electron/file-log-sink';
import { LogHub } from '../../src-node/log';
import { tempDirs } from './temp-dirs';

const newDir = tempDirs('nya-logs-');
const tempDir = () => join(newDir(), 'logs');

describe('RotatingFileLog', () => {
  it('writes hub records as lines', () => {
    const dir = tempDir();
    const files = new RotatingFileLog({ dir });
    const hub = new LogHub(() => Date.UTC(2026, 0, 2, 3, 4, 5));
    hub.attach(files.sink);
    hub.logger('miner').child('teacher').warn('two\nlines');
    files.close();
    expect(readFileSync(join(dir, 'main.log'), 'utf8')).toBe('2026-01-02T03:04:05.000Z WARN  [miner/teacher] two\n    lines\n');
  });

  it('rotates by size and keeps at most maxFiles files of at most maxBytes', () => {
    const dir = tempDir();
    const files = new RotatingFileLog({ dir, maxBytes: 100, maxFiles: 3 });
    const lines = Array.from({ length: 40 }, (_, i) => `line ${String(i).padStart(3, '0')} ${'x'.repeat(20)}\n`);
    for (const line of lines) files.write(line);
    files.close();
    expect(readdirSync(dir).sort()).toEqual(['main.1.log', 'main.2.log', 'main.log']);
    for (const f of files.files()) expect(statSync(f).size).toBeLessThanOrEqual(100);
    // Newest last in main.log, and the three files together are the most recent lines, in order.
    const kept = [...files.files()]
      .reverse()
      .map((f) => readFileSync(f, 'utf8'))
      .join('');
    expect(lines.join('').endsWith(kept)).toBe(true);
    expect(kept.endsWith(lines.at(-1)!)).toBe(true);
  });

  it('continues an existing file after a restart, counting its size', () => {
    const dir = tempDir();
    const first = new RotatingFileLog({ dir, maxBytes: 50 });
    first.write(`${'a'.repeat(40)}\n`);
    first.close();
    const second = new RotatingFileLog({ dir, maxBytes: 50 });
    second.write(`${'b'.repeat(20)}\n`);
    second.close();
    expect(readFileSync(join(dir, 'main.1.log'), 'utf8')).toBe(`${'a'.repeat(40)}\n`);
    expect(readFileSync(join(dir, 'main.log'), 'utf8')).toBe(`${'b'.repeat(20)}\n`);
  });

  it('formats levels to a fixed width', () => {
    expect(formatLogLine({ atMs: 0, level: 'info', source: 's', message: 'm' })).toBe('1970-01-01T00:00:00.000Z INFO  [s] m\n');
  });

  it('reads back the most recent records across rotated files, in order', () => {
    const dir = tempDir();
    const files = new RotatingFileLog({ dir, maxBytes: 200, maxFiles: 5 });
    const records = Array.from({ length: 12 }, (_, i) => ({
      atMs: Date.UTC(2026, 0, 1, 0, 0, i),
      level: (['debug', 'info', 'warn', 'error'] as const)[i % 4]!,
      source: `src/${i}`,
      message: i === 5 ? 'first\nsecond [x] line' : `message ${i}`,
    }));
    for (const r of records) files.sink(r);
    files.close();
    expect(files.files().length).toBeGreaterThan(1);
    expect(new RotatingFileLog({ dir, maxBytes: 200, maxFiles: 5 }).recent(7)).toEqual(records.slice(-7));
  });
});

describe('parseLogText', () => {
  it('inverts formatLogLine and skips foreign lines', () => {
    const r = { atMs: Date.UTC(2026, 4, 6, 7, 8, 9, 10), level: 'error' as const, source: 'a/b', message: 'x\n  y' };
    expect(parseLogText(`garbage\n${formatLogLine(r)}\n`)).toEqual([r]);
  });
});
