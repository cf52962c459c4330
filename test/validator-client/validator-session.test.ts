import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cryptoWaitReady, sr25519PairFromSeed } from '@polkadot/util-crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { API, SOFT_LABELS_CONTENT_TYPE, type Task } from '../../src-shared/protocol';
import { encodeResultBundle, encodeSoftLabels } from '../../src-node/soft-labels';
import type { Logger } from '../../src-node/log';
import type { SubmissionOutcome } from '../../src-main/miner/ports';
import { backoffDelayMs, ValidatorSession, type ValidatorSessionOptions } from '../../src-main/validator-client';
import { signerFromPair } from '../../src-main/wallet';
import type { RequestSigner } from '../../src-shared/request-signer';
import { FakeValidator, sampleMe } from './fake-validator';

const MODEL_HASH = 'ab'.repeat(32);
let signer: RequestSigner;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  await cryptoWaitReady();
  signer = signerFromPair(sr25519PairFromSeed(new Uint8Array(32).fill(42)));
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function recordingLog(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const make = (source: string): Logger => ({
    debug: (m) => lines.push(`debug ${source}: ${m}`),
    info: (m) => lines.push(`info ${source}: ${m}`),
    warn: (m) => lines.push(`warn ${source}: ${m}`),
    error: (m) => lines.push(`error ${source}: ${m}`),
    child: (child) => make(`${source}/${child}`),
  });
  return Object.assign(make('validator-client'), { lines });
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'nya-vc-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function validator(now?: () => number): Promise<FakeValidator> {
  const v = new FakeValidator(now);
  await v.start();
  cleanups.push(() => v.stop());
  return v;
}

function session(v: FakeValidator, dataDir: string, extra: Partial<ValidatorSessionOptions> = {}) {
  const log = recordingLog();
  const s = new ValidatorSession({
    baseUrl: v.baseUrl,
    signer,
    dataDir,
    log,
    clientName: 'nya-miner/test',
    displayName: 'test rig',
    modelHash: () => MODEL_HASH,
    backoff: { baseMs: 20, capMs: 100, floorMs: 5 },
    requestTimeoutMs: 5000,
    ...extra,
  });
  const outcomes: SubmissionOutcome[] = [];
  s.onOutcome((o) => outcomes.push(o));
  cleanups.push(() => s.dispose());
  return { s, log, outcomes };
}

function bundleFor(taskId: string, seed = 1): Uint8Array {
  const positions = 3;
  const k = 2;
  const ids = new Int32Array(positions * k).map((_, i) => (i * 7 + seed) % 32768);
  const logprobs = new Float32Array(positions * k).map((_, i) => (i % k === 0 ? -0.5 : -1.5));
  const doc = encodeSoftLabels({
    header: { taskId, docId: `doc-${seed}`, modelHash: MODEL_HASH, k, positions, tokenIdsChecksum: seed },
    topkIds: ids,
    topkLogprobs: logprobs,
  });
  return encodeResultBundle([doc]);
}

function sampleTask(taskId: string): Task {
  return {
    taskId,
    k: 16,
    seqLen: 1024,
    modelHash: MODEL_HASH,
    deadlineAtMs: Date.now() + 60_000,
    documents: [{ docId: 'd1', text: 'hello' }],
    tokens: 2,
  };
}

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const outboxFiles = (dataDir: string) =>
  readdirSync(join(dataDir, 'outbox'))
    .filter((n) => n !== 'corrupt')
    .sort();
const leaseReq = { maxTokens: 4096, tokensPerS: 1500.5, gpuClass: 'RTX 4090' };

describe('ValidatorSession against a signature-checking validator', () => {
  it('leases with a signed request that carries what the miner offers', async () => {
    const v = await validator();
    v.leaseAnswers = [{ status: 200, json: { kind: 'task', task: sampleTask('t-1') } }];
    const { s } = session(v, tempDir());
    await s.start();
    const outcome = await s.lease(leaseReq);
    expect(outcome).toMatchObject({ kind: 'task', task: { taskId: 't-1', k: 16, documents: [{ docId: 'd1', text: 'hello' }] } });
    const req = v.received.find((r) => r.path === API.lease)!;
    expect(req.address).toBe(signer.address);
    expect(JSON.parse(req.body.toString())).toEqual({
      client: 'nya-miner/test',
      maxTokens: 4096,
      tokensPerS: 1500.5,
      gpuClass: 'RTX 4090',
      name: 'test rig',
      modelHash: MODEL_HASH,
    });
    expect(s.state).toMatchObject({ connection: 'online', lastError: null });
    expect(v.signatureFailures).toEqual([]);
  });

  it('passes "no work" through with its retry-after', async () => {
    const v = await validator();
    v.leaseAnswers = [{ status: 200, json: { kind: 'no-work', retryAfterMs: 7000 } }];
    const { s } = session(v, tempDir());
    expect(await s.lease(leaseReq)).toEqual({ kind: 'no-work', retryAfterMs: 7000 });
  });

  it('has the result on disk before submit resolves, sends it signed, and drops it on the ack', async () => {
    const v = await validator();
    v.holdResults = true;
    const dataDir = tempDir();
    const { s, outcomes } = session(v, dataDir);
    await s.start();
    const bundle = bundleFor('t:1');
    await s.submit({ taskId: 't:1', bundle, tokens: 3 });
    expect(outboxFiles(dataDir)).toEqual(['t~1.bin', 't~1.json']);
    expect(s.state.outboxPending).toBe(1);
    await until(() => v.results('t:1').length === 1, 'the upload');
    v.release();
    await until(() => outcomes.length === 1, 'the ack');
    expect(outcomes[0]).toEqual({ taskId: 't:1', tokens: 3, status: 'accepted' });
    expect(outboxFiles(dataDir)).toEqual([]);
    expect(s.state.outboxPending).toBe(0);
    const [upload] = v.results('t:1');
    expect(upload!.contentType).toBe(SOFT_LABELS_CONTENT_TYPE);
    expect(upload!.address).toBe(signer.address);
    expect(Buffer.compare(upload!.body, Buffer.from(bundle))).toBe(0);
  });

  it('refuses to queue something that is not a result bundle, and keeps nothing', async () => {
    const v = await validator();
    const dataDir = tempDir();
    const { s } = session(v, dataDir);
    await s.start();
    await expect(s.submit({ taskId: 't-2', bundle: new Uint8Array([1, 2, 3]), tokens: 1 })).rejects.toThrow(/not a valid result bundle/);
    await expect(s.submit({ taskId: '../evil', bundle: bundleFor('x'), tokens: 1 })).rejects.toThrow(/not a task id/);
    expect(outboxFiles(dataDir)).toEqual([]);
  });

  it('says where and why when the result cannot be saved', async () => {
    const v = await validator();
    const dataDir = tempDir();
    writeFileSync(join(dataDir, 'outbox'), 'a file where the outbox folder should be');
    const { s } = session(v, dataDir);
    await expect(s.submit({ taskId: 't-3', bundle: bundleFor('t-3'), tokens: 1 })).rejects.toThrow(
      /could not be saved in .*outbox .*check free space and permissions/,
    );
    expect(v.results()).toEqual([]);
  });
});

describe('while the validator is unreachable', () => {
  it('answers "offline" with a backoff that grows to the cap, jittered within bounds', async () => {
    let t = 1_760_000_000_000;
    const v = await validator(() => t);
    const url = v.baseUrl;
    await v.stop();
    const draws = [0.999, 0.999, 0.999, 0.999, 0.999, 0, 0.5, 0.25];
    const { s } = session(v, tempDir(), {
      now: () => t,
      random: () => draws.shift() ?? 0.5,
      baseUrl: url,
      backoff: { baseMs: 1000, capMs: 8000, floorMs: 100 },
    });
    const states: string[] = [];
    s.onChange(() => states.push(s.state.connection));
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      const outcome = await s.lease(leaseReq);
      if (outcome.kind !== 'offline') throw new Error(`expected offline, got ${outcome.kind}`);
      expect(outcome.error).toMatch(/cannot be reached: ECONNREFUSED/);
      delays.push(outcome.retryAtMs - t);
      t += 10;
    }
    // Ceilings 1, 2, 4, 8, 8 s (the cap), each drawn near its top.
    expect(delays.slice(0, 5)).toEqual([999, 1998, 3996, 7992, 7992].map((d) => expect.closeTo(d, -1)));
    for (const d of delays.slice(0, 5)) expect(d).toBeLessThanOrEqual(8000);
    // A draw of 0 lands on the floor, never 0 (no retry storm); the others stay under the cap.
    expect(delays[5]).toBe(100);
    expect(delays[6]).toBe(Math.round(100 + 0.5 * 7900));
    expect(s.state).toMatchObject({ connection: 'offline', lastError: expect.stringMatching(/cannot be reached/) });
    expect(states[0]).toBe('offline');

    await v.start();
    expect((await s.lease(leaseReq)).kind).toBe('no-work');
    expect(s.state).toMatchObject({ connection: 'online', lastError: null, retryAtMs: null });
    expect(states.at(-1)).toBe('online');
  });

  it('spreads real draws within [floor, ceiling]', () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      for (let i = 0; i < 40; i++) {
        const ceiling = Math.min(60_000, 1000 * 2 ** attempt);
        const d = backoffDelayMs(attempt, Math.random);
        expect(d).toBeGreaterThanOrEqual(250);
        expect(d).toBeLessThanOrEqual(ceiling);
      }
    }
  });

  it('honours Retry-After on 503', async () => {
    const t = 1_760_000_000_000;
    const v = await validator(() => t);
    v.leaseAnswers = [{ status: 503, json: { error: { code: 'unavailable', message: 'draining' } }, headers: { 'retry-after': '42' } }];
    const { s } = session(v, tempDir(), { now: () => t });
    const outcome = await s.lease(leaseReq);
    expect(outcome).toMatchObject({
      kind: 'offline',
      retryAtMs: t + 42_000,
      error: expect.stringMatching(/HTTP 503, unavailable: draining/),
    });
  });

  it('retries on its timer even when the injected clock stands still', async () => {
    const t = 1_760_000_000_000;
    const v = await validator(() => t);
    await v.stop();
    const { s, outcomes } = session(v, tempDir(), { now: () => t });
    await s.start();
    await s.submit({ taskId: 'frozen', bundle: bundleFor('frozen'), tokens: 3 });
    await until(() => s.state.connection === 'offline', 'offline');
    await v.start();
    await until(() => outcomes.length === 1, 'the ack');
  });

  it('keeps results queued while it is down and sends each once when it is back', async () => {
    const v = await validator();
    await v.stop();
    const dataDir = tempDir();
    const { s, outcomes } = session(v, dataDir);
    await s.start();
    for (const id of ['a', 'b', 'c']) await s.submit({ taskId: id, bundle: bundleFor(id), tokens: 3 });
    await until(() => s.state.connection === 'offline', 'offline');
    expect(s.state.outboxPending).toBe(3);
    expect(outboxFiles(dataDir)).toHaveLength(6);
    await v.start();
    await until(() => outcomes.length === 3, 'three acks');
    expect(outcomes.map((o) => o.taskId)).toEqual(['a', 'b', 'c']);
    for (const id of ['a', 'b', 'c']) expect(v.results(id)).toHaveLength(1);
    expect(outboxFiles(dataDir)).toEqual([]);
    expect(s.state.connection).toBe('online');
  });
});

describe('across a restart', () => {
  it('re-sends what a killed process left, exactly once, and acks it', async () => {
    const v = await validator();
    await v.stop();
    const dataDir = tempDir();
    const first = session(v, dataDir);
    await first.s.start();
    await first.s.submit({ taskId: 'k-1', bundle: bundleFor('k-1'), tokens: 3 });
    await first.s.submit({ taskId: 'k-2', bundle: bundleFor('k-2', 2), tokens: 4 });
    await first.s.dispose();
    expect(outboxFiles(dataDir)).toHaveLength(4);

    await v.start();
    const second = session(v, dataDir);
    await second.s.start();
    await until(() => second.outcomes.length === 2, 'both acks');
    expect(second.outcomes).toEqual([
      { taskId: 'k-1', tokens: 3, status: 'accepted' },
      { taskId: 'k-2', tokens: 4, status: 'accepted' },
    ]);
    expect(v.results('k-1')).toHaveLength(1);
    expect(v.results('k-2')).toHaveLength(1);
    expect(first.outcomes).toEqual([]);
    expect(outboxFiles(dataDir)).toEqual([]);
    expect(second.log.lines.some((l) => /2 result\(s\) from an earlier run/.test(l))).toBe(true);
  });

  it('treats the validator idempotent answer to a re-sent result as its ack, once', async () => {
    const v = await validator();
    v.holdResults = true;
    const dataDir = tempDir();
    const first = session(v, dataDir);
    await first.s.start();
    await first.s.submit({ taskId: 'd-1', bundle: bundleFor('d-1'), tokens: 3 });
    // The validator stored it but the answer never arrived: the process died mid-request.
    await until(() => v.results('d-1').length === 1, 'the first upload');
    await first.s.dispose();
    v.holdResults = false;
    v.release();

    const second = session(v, dataDir);
    await second.s.start();
    await until(() => second.outcomes.length === 1, 'the ack');
    expect(v.results('d-1')).toHaveLength(2);
    expect(v.stored.size).toBe(1);
    expect(second.outcomes).toEqual([{ taskId: 'd-1', tokens: 3, status: 'accepted' }]);
    expect(first.outcomes).toEqual([]);
    expect(outboxFiles(dataDir)).toEqual([]);
  });

  it('drops a result the validator calls a conflicting duplicate, reporting it rejected with the reason', async () => {
    const v = await validator();
    const dataDir = tempDir();
    const { s, outcomes, log } = session(v, dataDir);
    await s.start();
    await s.submit({ taskId: 'dup', bundle: bundleFor('dup', 1), tokens: 3 });
    await until(() => outcomes.length === 1, 'first ack');
    await s.submit({ taskId: 'dup', bundle: bundleFor('dup', 2), tokens: 3 });
    await until(() => outcomes.length === 2, 'second answer');
    expect(outcomes[1]).toMatchObject({
      taskId: 'dup',
      status: 'rejected',
      reason: expect.stringMatching(/duplicate: a different result/),
    });
    expect(outboxFiles(dataDir)).toEqual([]);
    expect(log.lines.some((l) => l.startsWith('warn') && /never accept this result/.test(l))).toBe(true);
  });

  it('sets damaged outbox files aside with a log line and still sends the good ones', async () => {
    const v = await validator();
    const dataDir = tempDir();
    const first = session(v, dataDir);
    await v.stop();
    await first.s.start();
    await first.s.submit({ taskId: 'good', bundle: bundleFor('good'), tokens: 3 });
    await first.s.submit({ taskId: 'torn', bundle: bundleFor('torn'), tokens: 3 });
    await first.s.dispose();
    const outbox = join(dataDir, 'outbox');
    writeFileSync(join(outbox, 'torn.bin'), Buffer.from('NYSB but cut short'));
    writeFileSync(join(outbox, 'nometa.bin'), bundleFor('nometa'));
    writeFileSync(join(outbox, 'garbled.json'), '{"version":1,');
    writeFileSync(join(outbox, 'garbled.bin'), bundleFor('garbled'));
    writeFileSync(join(outbox, 'unfinished.json'), '{}');

    await v.start();
    const second = session(v, dataDir);
    await second.s.start();
    await until(() => second.outcomes.length === 1, 'the good result');
    expect(second.outcomes[0]!.taskId).toBe('good');
    expect(outboxFiles(dataDir)).toEqual([]);
    const aside = readdirSync(join(outbox, 'corrupt'));
    for (const stem of ['torn', 'nometa', 'garbled']) expect(aside.some((n) => n.startsWith(`${stem}.`))).toBe(true);
    expect(existsSync(join(outbox, 'unfinished.json'))).toBe(false);
    expect(second.log.lines.filter((l) => l.startsWith('error') && /is damaged/.test(l))).toHaveLength(3);
    expect(v.results()).toHaveLength(1);
  });
});

describe('refusals of a result', () => {
  it.each([
    ['unknown-task', 404],
    ['expired', 410],
  ])('drops a result refused as %s and reports it rejected', async (code, status) => {
    const v = await validator();
    v.resultAnswer = () => ({ status, json: { error: { code, message: `refused as ${code}` } } });
    const dataDir = tempDir();
    const { s, outcomes } = session(v, dataDir);
    await s.start();
    await s.submit({ taskId: 'r-1', bundle: bundleFor('r-1'), tokens: 3 });
    await until(() => outcomes.length === 1, 'the refusal');
    expect(outcomes[0]).toMatchObject({
      taskId: 'r-1',
      tokens: 3,
      status: 'rejected',
      reason: expect.stringContaining(`${code}: refused as ${code}`),
    });
    expect(outboxFiles(dataDir)).toEqual([]);
  });

  it('keeps a result refused for a reason that is not the result (a bad signature) and sends it again', async () => {
    const v = await validator();
    let refusals = 2;
    v.resultAnswer = () =>
      refusals-- > 0 ? { status: 401, json: { error: { code: 'bad-signature', message: 'clock or key trouble' } } } : null;
    const { s, outcomes } = session(v, tempDir());
    await s.start();
    await s.submit({ taskId: 'r-2', bundle: bundleFor('r-2'), tokens: 3 });
    await until(() => outcomes.length === 1, 'the eventual ack');
    expect(v.results('r-2')).toHaveLength(3);
    expect(outcomes[0]).toMatchObject({ status: 'accepted' });
    expect(s.state.lastError).toBeNull();
  });

  it('lets the caller abort a lease', async () => {
    const v = await validator();
    const { s } = session(v, tempDir());
    const abort = new AbortController();
    abort.abort(new Error('paused by the user'));
    await expect(s.lease(leaseReq, abort.signal)).rejects.toThrow(/paused by the user/);
  });
});

describe('answers it cannot use', () => {
  it('turns a malformed lease answer into a clear error, not a crash', async () => {
    const v = await validator();
    v.leaseAnswers = [
      { status: 200, json: { kind: 'task', task: { taskId: 't' } } },
      { status: 200, raw: '<html>proxy error</html>' },
    ];
    const { s } = session(v, tempDir());
    const first = await s.lease(leaseReq);
    expect(first).toMatchObject({ kind: 'offline', error: expect.stringMatching(/does not follow protocol v1 \(task\.k/) });
    expect(s.state.lastError).toMatch(/does not follow protocol v1/);
    const second = await s.lease(leaseReq);
    expect(second).toMatchObject({ kind: 'offline', error: expect.stringMatching(/not JSON \(<html>proxy error/) });
  });

  it('says clearly when the validator wants another model, as something no retry fixes', async () => {
    const v = await validator();
    v.leaseAnswers = [
      { status: 409, json: { error: { code: 'wrong-model', message: `this validator accepts model ${'cd'.repeat(32)}` } } },
    ];
    const { s } = session(v, tempDir());
    const outcome = await s.lease(leaseReq);
    expect(outcome.kind).toBe('cannot-mine');
    const error = (outcome as Extract<typeof outcome, { kind: 'cannot-mine' }>).error;
    expect(error.reason).toBe('wrong-model');
    expect(error.message).toMatch(/refused POST \/v1\/lease \(wrong-model: this validator accepts model cdcd/);
    expect(s.state).toMatchObject({ connection: 'online', lastError: expect.stringMatching(/wrong-model/) });
  });

  it('keeps a result whose ack is malformed and sends it again', async () => {
    const v = await validator();
    let calls = 0;
    v.resultAnswer = () => (++calls === 1 ? { status: 200, json: { status: 'maybe' } } : null);
    const dataDir = tempDir();
    const { s, outcomes } = session(v, dataDir);
    await s.start();
    await s.submit({ taskId: 'm-1', bundle: bundleFor('m-1'), tokens: 3 });
    await until(() => outcomes.length === 1, 'the second, valid ack');
    expect(v.results('m-1')).toHaveLength(2);
    expect(outcomes[0]).toMatchObject({ status: 'accepted' });
  });

  it('reads the miner account, and rejects a malformed one clearly', async () => {
    const v = await validator();
    const { s } = session(v, tempDir());
    const me = sampleMe();
    expect(await s.stats()).toMatchObject({
      validatedTokens: me.validatedTokens,
      pendingTokens: me.pendingTokens,
      rejectedTokens: me.rejectedTokens,
      earnedNano: me.earnedNano,
      epochShare: me.epochShare,
    });
    v.meAnswer = { status: 200, json: { ...me, earnedNano: 1.5 } };
    await expect(s.stats()).rejects.toThrow(/GET \/v1\/me does not follow protocol v1 \(earnedNano/);
  });
});
