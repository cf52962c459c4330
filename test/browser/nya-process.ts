import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

export const ROOT = resolve(__dirname, '../..');
const NYA = resolve(ROOT, 'bin/nya.cjs');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** A real `nya mine` (or any nya command) as a user runs it; output is kept for failure messages. */
export class NyaProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  private exitCode: number | null = null;
  private readonly exited: Promise<number | null>;

  constructor(args: string[], env: Record<string, string> = {}) {
    if (!existsSync(resolve(ROOT, 'dist/main/nya.cjs'))) throw new Error('dist/main/nya.cjs is missing: run `npm run build` first');
    this.child = spawn(process.execPath, [NYA, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8').on('data', (c: string) => (this.stdout += c));
    this.child.stderr!.setEncoding('utf8').on('data', (c: string) => (this.stderr += c));
    this.exited = new Promise((done) => this.child.once('exit', (code) => done((this.exitCode = code))));
  }

  /** Waits for a line of stdout matching `pattern`; fails with the process's output if it exits first. */
  async waitFor(pattern: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
    const started = Date.now();
    for (;;) {
      const m = this.stdout.match(pattern);
      if (m) return m;
      if (this.exitCode !== null || this.child.exitCode !== null)
        throw new Error(`nya exited (${this.child.exitCode}) before ${pattern}:\n${this.stdout}\n${this.stderr}`);
      if (Date.now() - started > timeoutMs)
        throw new Error(`timed out waiting for ${pattern}:\n${this.stdout}\n${this.stderr.slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** SIGTERM, then the exit code (SIGKILL after `graceMs`). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 20_000): Promise<number | null> {
    if (this.child.exitCode !== null) return this.child.exitCode;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
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
