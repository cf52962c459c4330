import { Worker } from 'node:worker_threads';

// Runs in the worker thread: its own connection to the same database file, checkpointing on a timer.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driverPath);
const db = new Database(workerData.file);
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (error) {
    parentPort.postMessage({ error: String(error && error.message || error) });
  }
}, workerData.everyMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/**
 * WAL checkpoints of a SQLite database in a thread of their own. SQLite otherwise checkpoints
 * inside whichever COMMIT crosses the WAL threshold, on the validator's only event-loop thread, and
 * a checkpoint ends in an fsync that on ext4 (data=ordered) also waits for the result files written
 * meanwhile: 100-120 ms stalls every few seconds under load. A PASSIVE checkpoint never blocks the
 * writer, so the main connection only appends to the WAL (no fsync with synchronous=NORMAL).
 * If the thread dies, `onLost` is told, so the owner can turn automatic checkpoints back on.
 */
export class SqliteCheckpointer {
  private readonly worker: Worker;
  private stopping = false;

  constructor(file: string, everyMs: number, onLost: (why: string) => void) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, everyMs, driverPath: require.resolve('better-sqlite3') } });
    this.worker.on('message', (m: { error?: string }) => {
      if (m.error) onLost(`a background checkpoint failed: ${m.error}`);
    });
    this.worker.on('error', (error) => {
      if (!this.stopping) onLost(`the checkpoint thread failed: ${error.message}`);
    });
    this.worker.on('exit', (code) => {
      if (!this.stopping) onLost(`the checkpoint thread exited (${code})`);
    });
    this.worker.unref();
  }

  /**
   * Stops the timer and closes the thread's connection; resolves when the thread has exited. The
   * thread holds the process open until then: unreferenced, a process with nothing else left to
   * do exited mid-checkpoint, before the caller's own shutdown (closing the main connection,
   * removing a bench's data folder) ran.
   */
  stop(): Promise<void> {
    if (this.stopping) return Promise.resolve();
    this.stopping = true;
    this.worker.ref();
    return new Promise((resolve) => {
      this.worker.once('exit', () => resolve());
      this.worker.postMessage('stop');
    });
  }
}
