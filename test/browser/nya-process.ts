import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { chromium, type Browser } from 'playwright-core';
import type { StateSnapshot } from '../../src-shared/state';

export const ROOT = resolve(__dirname, '../..');
const NYA = resolve(ROOT, 'bin/nya.cjs');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** A real `nya mine` (or any nya command) as a user runs it; output is kept for failure messages. */
export class NyaProcess {
  readonly child: ChildProcess;
  private readonly terminal: boolean;
  private readonly group: boolean;
  stdout = '';
  stderr = '';
  private exitCode: number | null = null;
  private readonly exited: Promise<number | null>;

  /**
   * `terminal`: run on a pseudo-terminal (util-linux `script`), as from a shell, so nya shows and
   * asks what it shows a person at a terminal (a new recovery phrase); stdout then carries stderr
   * too, and `type` answers its questions. `group`: in a process group of its own, which `stop`
   * signals whole (nya and the teacher workers it forks).
   */
  constructor(
    args: string[],
    env: Record<string, string> = {},
    { terminal = false, group = false }: { terminal?: boolean; group?: boolean } = {},
  ) {
    if (!existsSync(resolve(ROOT, 'dist/main/nya.cjs'))) throw new Error('dist/main/nya.cjs is missing: run `npm run build` first');
    const command = [process.execPath, NYA, ...args];
    const options = { cwd: ROOT, env: { ...process.env, ...env } };
    this.child = terminal
      ? spawn('script', ['-qfec', command.map(shellQuote).join(' '), '/dev/null'], { ...options, stdio: ['pipe', 'pipe', 'pipe'] })
      : spawn(command[0]!, command.slice(1), { ...options, stdio: ['ignore', 'pipe', 'pipe'], detached: group });
    this.terminal = terminal;
    this.group = group && !terminal;
    // A terminal ends lines with \r\n and colours some words; the patterns tests wait for do not.
    const plain = (c: string) => (terminal ? stripVTControlCharacters(c.replace(/\r\n/g, '\n')) : c);
    this.child.stdout!.setEncoding('utf8').on('data', (c: string) => (this.stdout += plain(c)));
    this.child.stderr!.setEncoding('utf8').on('data', (c: string) => (this.stderr += c));
    this.exited = new Promise((done) => this.child.once('exit', (code) => done((this.exitCode = code))));
  }

  /**
   * Waits for stdout (from character `from` on) to match `pattern`; fails with the process's output
   * if it exits first. The match's `end` is where to look for what comes after it.
   */
  async waitFor(pattern: RegExp, timeoutMs = 60_000, from = 0): Promise<RegExpMatchArray & { end: number }> {
    const started = Date.now();
    for (;;) {
      const m = this.stdout.slice(from).match(pattern);
      if (m) return Object.assign(m, { end: from + m.index! + m[0].length });
      if (this.exitCode !== null || this.child.exitCode !== null)
        throw new Error(`nya exited (${this.child.exitCode}) before ${pattern}:\n${this.stdout}\n${this.stderr}`);
      if (Date.now() - started > timeoutMs)
        throw new Error(`timed out waiting for ${pattern}:\n${this.stdout}\n${this.stderr.slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Types a line into nya's terminal (`terminal` mode only). */
  type(line: string): void {
    if (!this.terminal) throw new Error('nya runs without a terminal: nothing to type into');
    this.child.stdin!.write(`${line}\n`);
  }

  /** SIGTERM, then the exit code (SIGKILL after `graceMs`). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 20_000): Promise<number | null> {
    if (this.child.exitCode !== null) {
      if (this.group) this.signal('SIGKILL');
      return this.child.exitCode;
    }
    // On a terminal the signal goes to nya itself (script's child), as Ctrl-C would; script exits with its code.
    const target = this.terminal ? Number(readFileSync(`/proc/${this.child.pid}/task/${this.child.pid}/children`, 'utf8').trim()) : null;
    if (target) process.kill(target, signal);
    else this.signal(signal);
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    const code = await this.exited;
    clearTimeout(timer);
    if (this.group) this.signal('SIGKILL');
    return code;
  }

  private signal(signal: NodeJS.Signals): void {
    if (!this.group) return void this.child.kill(signal);
    try {
      process.kill(-this.child.pid!, signal);
    } catch {
      // The group is gone already.
    }
  }
}

function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** `GET /api/state` of a running nya mine's dashboard: the snapshot main pushes to the page. */
export async function fetchState(origin: string, token: string): Promise<StateSnapshot> {
  const res = await fetch(`${origin}/api/state`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`GET /api/state: ${res.status}`);
  return (await res.json()) as StateSnapshot;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** Polls `fn` until it returns a truthy value. */
export async function eventually<T>(fn: () => Promise<T | null | undefined | false>, timeoutMs = 60_000, what = 'condition'): Promise<T> {
  const started = Date.now();
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (error) {
      last = error;
    }
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
