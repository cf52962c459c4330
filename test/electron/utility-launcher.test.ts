import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { utilityProcessLauncher } from '../../src-main/electron/utility-launcher';
import type { Logger } from '../../src-node/log';

function fakeUtilityProcess() {
  const child = new EventEmitter() as EventEmitter & Record<string, unknown>;
  Object.assign(child, {
    stdout: new PassThrough(),
    stderr: new PassThrough(),
    posted: [] as unknown[],
    killed: 0,
    pid: 4242,
    postMessage: (m: unknown) => (child.posted as unknown[]).push(m),
    kill: () => ((child.killed as number)++, true),
  });
  return child;
}

function recordingLogger() {
  const lines: string[] = [];
  const log: Logger = {
    debug: (m) => lines.push(`debug ${m}`),
    info: (m) => lines.push(`info ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    error: (m) => lines.push(`error ${m}`),
    child: () => log,
  };
  return { log, lines };
}

describe('utilityProcessLauncher', () => {
  it('forks the entry with merged env and relays messages, exit and output', async () => {
    const child = fakeUtilityProcess();
    const fork = vi.fn(() => child);
    const { log, lines } = recordingLogger();
    const launcher = utilityProcessLauncher(fork as never, log, { PATH: '/bin', A: '1' });
    const handle = launcher.launch('/app/worker.cjs', { A: '2' });
    expect(launcher.pids()).toEqual([4242]);
    expect(fork).toHaveBeenCalledWith('/app/worker.cjs', [], expect.objectContaining({ env: { PATH: '/bin', A: '2' }, stdio: 'pipe' }));

    const load = { type: 'shutdown' } as never;
    handle.send(load);
    expect(child.posted).toEqual([load]);
    const received: unknown[] = [];
    handle.onMessage((m) => received.push(m));
    child.emit('message', { type: 'ready' });
    expect(received).toEqual([{ type: 'ready' }]);

    (child.stderr as PassThrough).write('CUDA warning\n\nsecond line\n');
    await new Promise((r) => setImmediate(r));
    expect(lines).toEqual(['warn CUDA warning', 'warn second line']);

    const exits: unknown[] = [];
    handle.onExit((code) => exits.push(code));
    child.emit('exit', 134);
    expect(exits).toEqual([{ code: 134, signal: null }]);
    expect(launcher.pids()).toEqual([]);
    // After exit, sending and killing are no-ops rather than errors.
    handle.send(load);
    handle.kill();
    expect(child.posted).toHaveLength(1);
    expect(child.killed).toBe(0);
  });

  it('kills a running worker at once', () => {
    const child = fakeUtilityProcess();
    delete child.pid;
    const handle = utilityProcessLauncher((() => child) as never, recordingLogger().log, {}).launch('/w.cjs', {});
    handle.kill();
    expect(child.killed).toBe(1);
  });

  it('sends SIGKILL to a real process on POSIX', async () => {
    if (process.platform === 'win32') return;
    const { spawn } = await import('node:child_process');
    const real = spawn(process.execPath, ['-e', 'process.on("SIGTERM", () => {}); setInterval(() => {}, 1000)']);
    const child = fakeUtilityProcess();
    child.pid = real.pid;
    const handle = utilityProcessLauncher((() => child) as never, recordingLogger().log, {}).launch('/w.cjs', {});
    const exited = new Promise<string | null>((r) => real.once('exit', (_code, signal) => r(signal)));
    handle.kill();
    expect(await exited).toBe('SIGKILL');
    expect(child.killed).toBe(0);
  });
});
