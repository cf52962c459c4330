/**
 * The teacher service's public face.
 *
 * `createTeacherHost(opts)` gives the miner its TeacherPort: the model runs in a worker process
 * that the host starts through a `WorkerLauncher`:
 *
 * ```ts
 * interface WorkerLauncher { launch(entryPath: string, env: Record<string, string>): WorkerHandle }
 * interface WorkerHandle {
 *   send(message: HostToWorker): void;                 // structured-clone transport
 *   onMessage(listener: (message: unknown) => void): void;
 *   onExit(listener: (exit: { code: number | null; signal: string | null }) => void): void;
 *   kill(): void;                                      // end the process now
 * }
 * ```
 *
 * `forkLauncher` (child_process.fork) serves headless mode and tests. The Electron shell adds a
 * launcher over `utilityProcess.fork(entryPath, [], { env, serviceName: 'Nya teacher' })`:
 * `send` → `child.postMessage`, `onMessage` → `child.on('message', listener)` (the message
 * itself, not an event), `onExit` → `child.on('exit', (code) => listener({ code, signal: null }))`,
 * `kill` → `child.kill()`. The worker entry (dist/main/teacher-worker.cjs) talks to either
 * parent on its own (`process.parentPort` or `process.send`).
 */
import type { TeacherPort } from '../miner/ports';
import { TeacherHost, type TeacherHostOptions } from './teacher-host';

export { forkLauncher } from './fork-launcher';
export { TeacherHost, TeacherWorkerExitedError, type TeacherHostOptions } from './teacher-host';
export type { WorkerHandle, WorkerLauncher } from './worker-protocol';
export { modelHash } from './model-hash';
export function createTeacherHost(opts: TeacherHostOptions): TeacherHost & TeacherPort {
  return new TeacherHost(opts);
}
