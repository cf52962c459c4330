import type { ForkOptions, UtilityProcess } from 'electron';
import type { Logger } from '../log';

/**
 * How the teacher host starts its worker. Electron runs it in a `utilityProcess` (its own V8 heap
 * and a Node environment; an out-of-memory error or a driver crash is an `exit` event here, not
 * an app crash); headless mode uses `child_process.fork` behind the same interface.
 */
export interface WorkerHandle {
  send(message: unknown): void;
  onMessage(listener: (message: unknown) => void): void;
  onExit(listener: (code: number | null) => void): void;
  kill(): void;
}

export interface WorkerLauncher {
  launch(entryPath: string, env?: Record<string, string>): WorkerHandle;
}

export type UtilityFork = (modulePath: string, args?: string[], options?: ForkOptions) => UtilityProcess;

/** Also knows its live workers' pids, so the GPU policy does not count our own worker as "another program". */
export function utilityProcessLauncher(
  fork: UtilityFork,
  log: Logger,
  baseEnv: NodeJS.ProcessEnv = process.env,
): WorkerLauncher & { pids(): number[] } {
  const live = new Set<UtilityProcess>();
  return {
    pids: () => [...live].flatMap((child) => (child.pid === undefined ? [] : [child.pid])),
    launch(entryPath, env = {}) {
      const child = fork(entryPath, [], {
        env: { ...baseEnv, ...env },
        serviceName: 'Nya Miner teacher',
        stdio: 'pipe',
      });
      // The worker reports through messages; raw output is what escapes that (native library noise).
      child.stdout?.on('data', (chunk: Buffer) => forwardLines(chunk, log.debug));
      child.stderr?.on('data', (chunk: Buffer) => forwardLines(chunk, log.warn));
      child.on('error', (type, location) => log.error(`teacher worker ${type} at ${location}`));
      let exited = false;
      live.add(child);
      child.once('exit', () => {
        exited = true;
        live.delete(child);
      });
      return {
        send: (message) => {
          if (!exited) child.postMessage(message);
        },
        onMessage: (listener) => void child.on('message', listener),
        onExit: (listener) => void child.once('exit', (code) => listener(code)),
        kill: () => {
          if (!exited) child.kill();
        },
      };
    },
  };
}

function forwardLines(chunk: Buffer, write: (line: string) => void): void {
  for (const line of chunk.toString('utf8').split(/\r?\n/)) if (line.trim()) write(line);
}
