import { fork } from 'node:child_process';
import type { WorkerHandle, WorkerLauncher } from './worker-protocol';

/**
 * Headless and test launcher: a Node child process with an IPC channel. `advanced` serialization
 * (structured clone) carries the encoded soft labels as Uint8Array instead of JSON number arrays.
 */
export const forkLauncher: WorkerLauncher = {
  launch(entryPath, env): WorkerHandle {
    const child = fork(entryPath, [], {
      env: { ...process.env, ...env },
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    // A child that dies while a message is on its way fails the write (EPIPE) as an 'error' event,
    // which would take the miner down with it; its exit event tells the host what happened.
    child.on('error', () => undefined);
    return {
      send(message) {
        if (child.connected) child.send(message, (error) => void error);
      },
      onMessage(listener) {
        child.on('message', listener);
      },
      onExit(listener) {
        child.on('exit', (code, signal) => listener({ code, signal }));
      },
      kill() {
        child.kill('SIGKILL');
      },
    };
  },
};
