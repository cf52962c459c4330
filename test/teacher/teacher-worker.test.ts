import { describe, expect, it } from 'vitest';
import { TeacherWorker } from '../../src-main/teacher/teacher-worker';
import { WorkerToHost } from '../../src-main/teacher/worker-protocol';

function worker() {
  const posted: WorkerToHost[] = [];
  let exited = false;
  const w = new TeacherWorker(
    (m) => posted.push(WorkerToHost.parse(m)),
    () => (exited = true),
  );
  return { w, posted, exited: () => exited };
}

describe('TeacherWorker protocol handling', () => {
  it('answers a malformed request with bad-request under its seq, and keeps running', async () => {
    const { w, posted, exited } = worker();
    await w.handle({ type: 'label', seq: 4, task: { taskId: 't', k: 99, seqLen: 10, documents: [] }, maxBatchTokens: 64 });
    await w.handle('not even an object');
    expect(posted[0]).toMatchObject({ type: 'failed', seq: 4, code: 'bad-request' });
    expect(posted[1]).toMatchObject({ type: 'failed', seq: 0, code: 'bad-request' });
    expect(exited()).toBe(false);
  });

  it('refuses to label before a model is loaded', async () => {
    const { w, posted } = worker();
    await w.handle({
      type: 'label',
      seq: 1,
      task: { taskId: 't', k: 16, seqLen: 10, documents: [{ docId: 'a', text: 'x' }] },
      maxBatchTokens: 64,
    });
    expect(posted).toEqual([{ type: 'failed', seq: 1, code: 'bad-request', message: 'no model is loaded' }]);
  });

  it('reports a missing model folder as a model error and exits on shutdown', async () => {
    const { w, posted, exited } = worker();
    await w.handle({ type: 'load', seq: 2, modelDir: '/nonexistent/model', cacheDir: '/tmp', provider: 'cpu', gpuDeviceId: 0 });
    expect(posted.at(-1)).toMatchObject({
      type: 'failed',
      seq: 2,
      code: 'model',
      message: 'model folder /nonexistent/model does not exist.',
    });
    await w.handle({ type: 'shutdown' });
    expect(exited()).toBe(true);
  });
});
