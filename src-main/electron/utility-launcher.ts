import type { ForkOptions, UtilityProcess } from 'electron';
import type { Logger } from '../../src-node/log';
import type { WorkerLauncher } from '../teacher';

/**
 * The teacher host's `WorkerLauncher` over Electron's `utilityProcess`: the worker gets its own V8
 * heap and a Node environment, so an out-of-memory error or a driver crash is an `exit` event
 * here, not an app crash. Headless mode uses `forkLauncher` (child_process.fork) instead.
 */
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
    launch(entryPath, env) {
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
        // utilityProcess reports only a code; a crash by signal shows as a non-zero code.
        onExit: (listener) => void child.once('exit', (code) => listener({ code, signal: null })),
        kill: () => {
          if (exited) return;
          // The contract says "now": utilityProcess.kill() sends SIGTERM, which a worker stuck in
          // a GPU call may not act on for a while.
          if (process.platform !== 'win32' && child.pid !== undefined) {
            try {
              process.kill(child.pid, 'SIGKILL');
              return;
            } catch {
              // Already gone: fall through to Electron's own kill.
            }
          }
          child.kill();
        },
      };
    },
  };
}

function forwardLines(chunk: Buffer, write: (line: string) => void): void {
  for (const line of chunk.toString('utf8').split(/\r?\n/)) if (line.trim()) write(line);
}
