import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { encodeResultBundle, encodeSoftLabels, tokenIdsChecksum, type SoftLabels } from '../../src-node/soft-labels';
import { distPath } from '../../src-node/app-paths';
import { BodyBuffers } from '../../src-validator/http/body-buffers';
import { fakeLabels, fakeTokenizer } from '../../src-validator/bench/sim/fake-teacher';
import { CheckPool, InlineChecker, type ResultChecker } from '../../src-validator/verify/check-pool';
import { sampleRows } from '../../src-validator/verify/record-rows';
import type { ExpectedTask } from '../../src-validator/verify/structural';
import { seededRandom } from './harness';

const tokenizer = fakeTokenizer();
const MODEL = 'ab'.repeat(32);
const texts = ['one two three four five six seven', 'a quiet river under grey skies and distant hills'].map((t) =>
  Array(40).fill(t).join(' '),
);
const ids = texts.map((t) => tokenizer.encode(t, 256));
const task: ExpectedTask = {
  taskId: 'task-1',
  k: 16,
  modelHash: MODEL,
  vocabSize: tokenizer.vocabSize,
  documents: ids.map((d, i) => ({ docId: `doc-${i}`, tokens: d.length, tokenIdsChecksum: tokenIdsChecksum(d) })),
};
const positions = task.documents.map((d) => d.tokens);

function bundle(noiseSeed: number, shift = 0): Uint8Array {
  return encodeResultBundle(
    ids.map((d, i) => {
      const l = fakeLabels(d, { k: 16, noise: 0.01, noiseSeed, vocabSize: tokenizer.vocabSize });
      const labels: SoftLabels = {
        header: {
          taskId: task.taskId,
          docId: `doc-${i}`,
          modelHash: MODEL,
          k: 16,
          positions: d.length,
          tokenIdsChecksum: tokenIdsChecksum(d),
        },
        // A shifted answer: every row is the next position's.
        topkIds: shift ? l.topkIds.copyWithin(0, 16 * shift) : l.topkIds,
        topkLogprobs: shift ? l.topkLogprobs.copyWithin(0, 16 * shift) : l.topkLogprobs,
      };
      return encodeSoftLabels(labels);
    }),
  );
}

/** Bytes in a SharedArrayBuffer, as `readBody` hands them over. */
function shared(bytes: Uint8Array): Buffer {
  const lease = new BodyBuffers().acquire(bytes.length);
  lease.bytes.set(bytes);
  return lease.bytes;
}

const dir = mkdtempSync(join(tmpdir(), 'nya-check-pool-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('check pool (worker threads) against inline checks', () => {
  const workerPath = distPath('main', 'check-worker.cjs');
  let pool: CheckPool | null = null;
  afterEach(async () => {
    await pool?.close();
    pool = null;
  });

  it('gives the inline answers for honest, corrupt, mismatched and disagreeing results', async () => {
    expect(existsSync(workerPath), `${workerPath} is built by npm test (npm run build)`).toBe(true);
    pool = new CheckPool(workerPath, 2);
    const inline = new InlineChecker();
    const honestA = bundle(1);
    const honestB = bundle(2);
    const corrupt = honestA.slice();
    corrupt[200] = corrupt[200]! ^ 0xff;
    const storedB = join(dir, 'b.nysb');
    writeFileSync(storedB, honestB);
    const answers = async (checker: ResultChecker) => ({
      honest: await checker.structure({
        body: shared(honestA),
        task,
        rows: sampleRows(positions, seededRandom(1)),
        stageTo: null,
        peers: [],
      }),
      corrupt: await checker.structure({
        body: shared(corrupt),
        task,
        rows: sampleRows(positions, seededRandom(1)),
        stageTo: null,
        peers: [],
      }),
      otherTask: await checker.structure({
        body: shared(honestA),
        task: { ...task, taskId: 'task-2' },
        rows: sampleRows(positions, seededRandom(1)),
        stageTo: null,
        peers: [],
      }),
      agree: await checker.compare({ a: { path: storedB }, b: { bytes: shared(honestA) }, rows: sampleRows(positions, seededRandom(2)) }),
      shifted: await checker.compare({
        a: { bytes: honestB },
        b: { bytes: shared(bundle(1, 1)) },
        rows: sampleRows(positions, seededRandom(2)),
      }),
      missing: await checker.compare({
        a: { path: join(dir, 'gone.nysb') },
        b: { bytes: honestA },
        rows: sampleRows(positions, seededRandom(2)),
      }),
      // The structure job compares with the task's other results in the same trip.
      withPeers: await checker.structure({
        body: shared(honestA),
        task,
        rows: sampleRows(positions, seededRandom(1)),
        stageTo: null,
        peers: [
          { key: 'b', source: { path: storedB }, rows: sampleRows(positions, seededRandom(2)) },
          { key: 'shifted', source: { bytes: bundle(1, 1) }, rows: sampleRows(positions, seededRandom(2)) },
        ],
      }),
    });
    const fromPool = await answers(pool);
    expect(fromPool).toEqual(await answers(inline));
    expect(fromPool.honest).toEqual({ verdict: 'ok', staged: false, agreement: {} });
    expect(fromPool.withPeers).toEqual({
      verdict: 'ok',
      staged: false,
      agreement: { b: fromPool.agree, shifted: { agree: false, reason: expect.any(String) } },
    });
    expect(fromPool.corrupt).toMatchObject({ verdict: 'bad-shape', message: expect.stringMatching(/CRC/) });
    expect(fromPool.otherTask).toMatchObject({ verdict: 'rejected', reason: expect.stringMatching(/task 'task-1'/) });
    expect(fromPool.agree).toEqual({ agree: true, reason: null });
    expect(fromPool.shifted.agree).toBe(false);
    expect(fromPool.missing).toMatchObject({ agree: false, reason: expect.stringMatching(/unreadable/) });
  });

  it('answers each of many jobs sent at once with its own answer (two jobs per worker in flight)', async () => {
    pool = new CheckPool(workerPath, 2);
    const inline = new InlineChecker();
    const bodies = [bundle(1), bundle(2), bundle(1, 1), bundle(3)];
    const corrupt = bodies[3]!.slice();
    corrupt[300] = corrupt[300]! ^ 0x01;
    bodies.push(corrupt);
    const jobs = Array.from({ length: 12 }, (_, i) => ({
      body: shared(bodies[i % bodies.length]!),
      task: i % 3 === 2 ? { ...task, k: 8 } : task,
      rows: sampleRows(positions, seededRandom(i)),
      stageTo: null,
      peers: [{ key: 'a', source: { bytes: bodies[0]! }, rows: sampleRows(positions, seededRandom(100 + i)) }],
    }));
    const fromPool = await Promise.all(jobs.map((j) => pool!.structure(j)));
    const fromInline = await Promise.all(jobs.map((j) => inline.structure(j)));
    expect(fromPool).toEqual(fromInline);
    // Not all alike, so an answer given to the wrong job would show.
    expect(new Set(fromPool.map((a) => JSON.stringify(a))).size).toBeGreaterThan(2);
  });

  it('puts the moved pieces of an upload in place before checking it, in the shared buffer the caller keeps', async () => {
    pool = new CheckPool(workerPath, 1);
    const honest = bundle(4);
    const lease = new BodyBuffers().acquire(honest.length);
    const cut = [0, 1000, honest.length >> 1, honest.length];
    const pieces = cut.slice(1).map((end, i) => ({ at: cut[i]!, bytes: new Uint8Array(honest.subarray(cut[i]!, end)).buffer }));
    const job = { body: lease.bytes, task, rows: sampleRows(positions, seededRandom(1)), stageTo: null, peers: [] };
    expect(await pool.structure({ ...job, pieces })).toEqual({ verdict: 'ok', staged: false, agreement: {} });
    // Moved, not copied: the caller's pieces are empty now, and the body is whole on this thread too.
    expect(pieces.every((p) => p.bytes.byteLength === 0)).toBe(true);
    expect(new Uint8Array(lease.bytes)).toEqual(honest);
  });

  it('writes a passing body to its staging file, and nothing for a refused one', async () => {
    pool = new CheckPool(workerPath, 1);
    const good = bundle(3);
    const stageTo = join(dir, 'staged', 'good.nysb');
    expect(await pool.structure({ body: shared(good), task, rows: sampleRows(positions, seededRandom(1)), stageTo, peers: [] })).toEqual({
      verdict: 'ok',
      staged: true,
      agreement: {},
    });
    expect(new Uint8Array(readFileSync(stageTo))).toEqual(good);
    const refusedAt = join(dir, 'staged', 'refused.nysb');
    const refused = await pool.structure({
      body: shared(good),
      task: { ...task, k: 8 },
      rows: sampleRows(positions, seededRandom(1)),
      stageTo: refusedAt,
      peers: [],
    });
    expect(refused.verdict).toBe('rejected');
    expect(existsSync(refusedAt)).toBe(false);
  });
});

describe('check pool when a worker dies', () => {
  // A stand-in worker speaking the pool's protocol: it exits on a job for task 'crash'.
  const fakeWorker = join(dir, 'fake-worker.cjs');
  writeFileSync(
    fakeWorker,
    `const { parentPort } = require('node:worker_threads');
     parentPort.on('message', ({ id, job }) => {
       if (job.kind === 'structure' && job.task.taskId === 'crash') process.exit(3);
       parentPort.postMessage({ id, answer: { verdict: 'ok', staged: false } });
     });`,
  );

  it('fails only the job that was running, with a clear error, and answers the next on a new worker', async () => {
    const warnings: string[] = [];
    const pool = new CheckPool(fakeWorker, 1, (m) => warnings.push(m));
    try {
      const job = (taskId: string) =>
        pool.structure({ body: new Uint8Array(4), task: { ...task, taskId }, rows: [], stageTo: null, peers: [] });
      const [crashed, queued] = await Promise.allSettled([job('crash'), job('after')]);
      expect(crashed).toMatchObject({
        status: 'rejected',
        reason: expect.objectContaining({ message: expect.stringMatching(/check worker stopped \(exit code 3\)/) }),
      });
      expect(queued).toEqual({ status: 'fulfilled', value: { verdict: 'ok', staged: false } });
      expect(await job('again')).toEqual({ verdict: 'ok', staged: false });
      expect(warnings).toEqual([expect.stringMatching(/starting another/)]);
    } finally {
      await pool.close();
    }
  });

  it('fails a waiting upload whose bytes went to the worker that died, and runs the other waiting jobs on a new one', async () => {
    const pool = new CheckPool(fakeWorker, 1);
    try {
      const job = (taskId: string, moved = false) =>
        pool.structure({
          body: new Uint8Array(4),
          pieces: moved ? [{ at: 0, bytes: new ArrayBuffer(4) }] : [],
          task: { ...task, taskId },
          rows: [],
          stageTo: null,
          peers: [],
        });
      // One worker holds two jobs: 'crash' and the moved upload; the third waits in the pool.
      const [crashed, moved, waiting] = await Promise.allSettled([job('crash'), job('moved', true), job('waiting')]);
      expect(crashed.status).toBe('rejected');
      expect(moved).toMatchObject({
        status: 'rejected',
        reason: expect.objectContaining({ message: expect.stringMatching(/check worker stopped/) }),
      });
      expect(waiting).toEqual({ status: 'fulfilled', value: { verdict: 'ok', staged: false } });
    } finally {
      await pool.close();
    }
  });

  it('fails the jobs it still holds when closed, and refuses work after', async () => {
    const pool = new CheckPool(fakeWorker, 1);
    const job = (taskId: string) =>
      pool.structure({ body: new Uint8Array(4), task: { ...task, taskId }, rows: [], stageTo: null, peers: [] });
    const held = [job('a'), job('b'), job('c')];
    await pool.close();
    const [, ...queued] = await Promise.allSettled(held);
    // 'a' was on the worker and may have been answered; the queued ones are failed, not left hanging.
    expect(queued).toEqual([
      { status: 'rejected', reason: expect.objectContaining({ message: expect.stringMatching(/shutting down/) }) },
      { status: 'rejected', reason: expect.objectContaining({ message: expect.stringMatching(/shutting down/) }) },
    ]);
    await expect(pool.compare({ a: { bytes: new Uint8Array(0) }, b: { bytes: new Uint8Array(0) }, rows: [] })).rejects.toThrow(/closed/);
  });
});
