import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { chromium, type Browser } from 'playwright-core';
import { onTestFailed } from 'vitest';
import WebSocket from 'ws';
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
   * Waits for stdout (from character `from` on) to match `pattern`, checked on each chunk nya
   * writes; fails with the process's output if it exits first. No time limit of its own: a busy
   * machine only makes it slower, and the test's timeout bounds it. The match's `end` is where to
   * look for what comes after it.
   */
  waitFor(pattern: RegExp, { from = 0 }: { from?: number } = {}): Promise<RegExpMatchArray & { end: number }> {
    return awaiting(`${pattern} in nya's output`, this.matched(pattern, from));
  }

  private matched(pattern: RegExp, from: number): Promise<RegExpMatchArray & { end: number }> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = this.stdout.slice(from).match(pattern);
        if (m) {
          done();
          resolve(Object.assign(m, { end: from + m.index! + m[0].length }));
        } else if (this.exitCode !== null || this.child.exitCode !== null) {
          done();
          reject(new Error(`nya exited (${this.child.exitCode}) before ${pattern}:\n${this.stdout}\n${this.stderr}`));
        }
      };
      // After this class's own listener (registered first) has appended the chunk.
      const onData = () => check();
      const onExit = () => setImmediate(check);
      const done = () => {
        this.child.stdout!.off('data', onData);
        this.child.off('exit', onExit);
      };
      this.child.stdout!.on('data', onData);
      this.child.once('exit', onExit);
      check();
    });
  }

  /** The exit code, once nya has exited. */
  exit(): Promise<number | null> {
    return this.exited;
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

/**
 * Chromium for the tests. Every context (and so every page) waits without a time limit of its
 * own (Playwright's default is 30 s per action): a wait follows the page's state and the test's
 * timeout bounds it, so a loaded machine makes a test slower, not red.
 */
export async function launchChromium(): Promise<Browser> {
  const browser = await chromium.launch({
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
  const newContext = browser.newContext.bind(browser);
  // Browser.newPage creates its context through this method too.
  browser.newContext = async (options) => {
    const context = await newContext(options);
    context.setDefaultTimeout(0);
    return context;
  };
  return browser;
}

/**
 * Polls `fn` until it returns a truthy value, for facts no event announces (a file's size, a
 * server's record). No time limit of its own: the test's timeout bounds it.
 */
export function eventually<T>(fn: () => Promise<T | null | undefined | false>, what = 'condition'): Promise<T> {
  return awaiting(
    what,
    (async () => {
      for (;;) {
        try {
          const v = await fn();
          if (v) return v;
        } catch {
          // Not there yet (a server still starting): ask again.
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    })(),
  );
}

/**
 * Names what a test was still waiting for when it failed (its timeout): waits have no deadline
 * of their own, so vitest's "timed out" would otherwise not say which fact never came.
 */
function awaiting<T>(what: string, wait: Promise<T>): Promise<T> {
  let settled = false;
  const startedMs = Date.now();
  // Not a deadline: a note for whoever watches a slow run.
  const note = setInterval(() => console.warn(`still waiting for ${what} (${Math.round((Date.now() - startedMs) / 1000)} s)`), 60_000);
  note.unref();
  void wait.then(
    () => ((settled = true), clearInterval(note)),
    () => ((settled = true), clearInterval(note)),
  );
  try {
    onTestFailed(() => {
      if (!settled) console.error(`the test was still waiting for ${what}`);
    });
  } catch {
    // Outside a test (a beforeAll hook): the hook's own timeout message has to do.
  }
  return wait;
}

/**
 * The snapshots `nya mine` pushes to its dashboard, received as the page receives them (its
 * WebSocket), so a test waits for the push that makes a fact true instead of polling on a clock.
 */
export class StateWatch {
  private latest: StateSnapshot | null = null;
  private readonly waiters = new Set<() => void>();
  private closed: Error | null = null;
  private nextId = 1;
  private readonly answers = new Map<number, (result: unknown) => void>();

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as { type: string; snapshot?: StateSnapshot; id?: number; result?: unknown };
      if (m.type === 'state' && m.snapshot) {
        this.latest = m.snapshot;
        for (const w of [...this.waiters]) w();
      } else if (m.type === 'result' && m.id !== undefined) this.answers.get(m.id)?.(m.result);
    });
    ws.on('close', () => {
      this.closed = new Error('the dashboard socket closed (nya exited?)');
      for (const w of [...this.waiters]) w();
    });
  }

  static open(origin: string, token: string): Promise<StateWatch> {
    const ws = new WebSocket(`${origin.replace(/^http/, 'ws')}/ws?token=${token}`);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new StateWatch(ws)));
      ws.once('error', reject);
    });
  }

  get state(): StateSnapshot | null {
    return this.latest;
  }

  /** The first snapshot (the current one or a later push) that passes `test`. */
  until(test: (s: StateSnapshot) => boolean, what: string): Promise<StateSnapshot> {
    return awaiting(what, this.first(test, what));
  }

  private first(test: (s: StateSnapshot) => boolean, what: string): Promise<StateSnapshot> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.latest && test(this.latest)) {
          this.waiters.delete(check);
          resolve(this.latest);
        } else if (this.closed) {
          this.waiters.delete(check);
          reject(new Error(`${this.closed.message} while waiting for ${what}`));
        }
      };
      this.waiters.add(check);
      check();
    });
  }

  /** An intent through the same channel the page uses; resolves with its `Result`. */
  invoke(channel: string, payload: unknown): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.answers.set(id, resolve);
      this.ws.send(JSON.stringify({ type: 'invoke', id, channel, payload }));
    });
  }

  close(): void {
    this.ws.close();
  }
}

/** A Playwright `hasText` that matches the whole text, not a part of it. */
export function exactly(text: string): RegExp {
  return new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
}
