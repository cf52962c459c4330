/**
 * The teacher worker process (bundled to dist/main/teacher-worker.cjs). Started by TeacherHost
 * through child_process.fork (IPC channel on `process`) or Electron's utilityProcess
 * (`process.parentPort`); this file only connects that channel to TeacherWorker.
 */
import { TeacherWorker } from './teacher-worker';
import { readOwnUsage } from '../resources/process-usage';
import { USAGE_INTERVAL_MS, type WorkerToHost } from './worker-protocol';

interface ParentPort {
  on(event: 'message', listener: (event: { data: unknown }) => void): void;
  postMessage(message: unknown): void;
}

const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;

function post(message: WorkerToHost): void {
  if (parentPort) parentPort.postMessage(message);
  else process.send?.(message);
}

const worker = new TeacherWorker(post, () => process.exit(0));
const receive = (message: unknown) => {
  worker.handle(message).catch((error: unknown) => {
    post({
      type: 'log',
      level: 'error',
      message: `teacher worker: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    });
  });
};

if (parentPort) parentPort.on('message', (event) => receive(event.data));
else if (process.send) process.on('message', receive);
else {
  console.error('teacher-worker: no parent channel; this process is started by the Nya miner, not by hand.');
  process.exit(2);
}
// The parent going away (crash, kill -9) closes the channel: nothing left to work for.
process.on('disconnect', () => process.exit(0));
// Ctrl-C in a terminal signals the whole process group: the host shuts this worker down in order
// (finishing with a `shutdown` message), so a signal of its own would only race that.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => undefined);
post({ type: 'ready' });
// Measured here, where it runs: the same in a utilityProcess and a fork, on every platform.
const reportUsage = () => post({ type: 'usage', ...readOwnUsage() });
reportUsage();
setInterval(reportUsage, USAGE_INTERVAL_MS).unref();
