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
    return {
      send(message) {
        // A dead child's channel is closed; its exit event tells the host what happened.
        if (child.connected) child.send(message);
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
