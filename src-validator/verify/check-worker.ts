/**
 * A check worker thread (bundled to dist/main/check-worker.cjs, started by CheckPool): runs one
 * job at a time and answers with the same id. A job that throws answers an error; the thread
 * stays up for the next one.
 */
import { parentPort } from 'node:worker_threads';
import { errorMessage } from '../../src-node/log';
import type { CheckReply, CheckRequest } from './check-pool';
import { runCheckJob } from './result-checks';

if (!parentPort) throw new Error('check-worker runs as a worker thread of the validator');
const port = parentPort;

port.on('message', ({ id, job }: CheckRequest) => {
  let reply: CheckReply;
  try {
    reply = { id, answer: runCheckJob(job) };
  } catch (error) {
    reply = { id, error: errorMessage(error) };
  }
  port.postMessage(reply);
});
