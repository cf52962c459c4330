import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cryptoWaitReady, sr25519PairFromSeed, sr25519Sign } from '@polkadot/util-crypto';
import { u8aToHex } from '@polkadot/util';
import {
  API,
  HEADER_KEY,
  HEADER_NONCE,
  MAX_JSON_BODY_BYTES,
  MAX_RESULT_BODY_BYTES,
  SIGNATURE_WINDOW_MS,
  SOFT_LABELS_CONTENT_TYPE,
  HealthResponse,
  LeaseResponse,
  MeResponse,
  PayoutChallengeResponse,
} from '../../src-shared/protocol';
import { addressOf, sha256Hex, signRequest } from '../../src-shared/request-signing';
import {
  bundleOf,
  documents,
  honestLabels,
  leaseTask,
  MODEL_HASH,
  OTHER_MODEL_HASH,
  startHarness,
  SETUPS,
  type Harness,
  type LeaseBody,
} from './harness';

beforeAll(async () => {
  await cryptoWaitReady();
});

type ErrorReply = { error: { code: string; message: string } };

describe.each(SETUPS)('validator API on $name', ({ kind, opts: setup }) => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  async function start(opts = {}) {
    h = await startHarness(kind, { ...setup, ...opts });
    await h.validator.addDocuments(documents(60));
    return h;
  }

  it('serves health and an empty queue answers no-work with a retry-after', async () => {
    h = await startHarness(kind, setup);
    const health = HealthResponse.parse(await (await fetch(`${h.validator.url}${API.health}`)).json());
    expect(health).toMatchObject({ ok: true, protocol: 1, modelHash: MODEL_HASH, demo: false });
    const res = await h.miner(1).lease<LeaseBody>();
    expect(res.status).toBe(200);
    expect(LeaseResponse.parse(res.body)).toMatchObject({ kind: 'no-work' });
    expect((res.body as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(0);
  });

  it('leases a task to R distinct miners, never twice to one, and re-issues expired leases', async () => {
    await start({ redundancy: 2, leaseMs: 60_000 });
    const a = h.miner(1);
    const b = h.miner(2);
    const c = h.miner(3);
    const t1 = await leaseTask(a);
    expect(LeaseResponse.parse({ kind: 'task', task: t1 })).toBeTruthy();
    expect(t1.documents.length).toBeGreaterThan(0);
    expect(t1.modelHash).toBe(MODEL_HASH);
    const t2 = await leaseTask(a);
    expect(t2.taskId).not.toBe(t1.taskId);
    // b gets a replica of one of a's tasks (the validator's random choice), c of the other; both are then fully leased.
    const tb = (await leaseTask(b)).taskId;
    expect([t1.taskId, t2.taskId]).toContain(tb);
    expect((await leaseTask(c)).taskId).toBe(tb === t1.taskId ? t2.taskId : t1.taskId);
    const d = h.miner(4);
    const fresh = await leaseTask(d);
    expect([t1.taskId, t2.taskId]).not.toContain(fresh.taskId);
    // The leases run out: their slots go to a miner that never held them, before any new task.
    h.clock.now += 61_000;
    const again = await leaseTask(h.miner(5));
    expect([t1.taskId, t2.taskId, fresh.taskId]).toContain(again.taskId);
    const bTask = tb === t1.taskId ? t1 : t2;
    const late = await b.submit<ErrorReply>(tb, bundleOf(honestLabels(bTask, 2)));
    expect(late.status).toBe(410);
    expect(late.body.error.code).toBe('expired');
  });

  it('hands out texts exactly as ingested: the database encodes the documents of a lease answer', async () => {
    h = await startHarness(kind, { ...setup, redundancy: 1 });
    const tricky = [
      'He said "hi" \\ and left.\n\tNext line\r\n',
      'Zürich, 東京, emoji 🙂, quotes “ ” and a dash —',
      'control \u0001\u0008\u000c\u001f and DEL \u007f and separators \u2028\u2029',
      '</script> {"json": [1, 2]} \\u0041 not an escape',
    ];
    const ingested = tricky.map((text, i) => ({ docId: `<urn:uuid:tricky-${i}> "quoted" id`, url: `https://example.org/t/${i}`, text }));
    await h.validator.addDocuments(ingested);
    const task = await leaseTask(h.miner(1), { maxTokens: 100_000 });
    expect(LeaseResponse.parse({ kind: 'task', task })).toBeTruthy();
    expect(task.documents).toEqual(ingested.map(({ docId, text }) => ({ docId, text })));
  });

  it('sizes work to the miner: a slow miner gets fewer tokens than a fast one', async () => {
    await start({ redundancy: 1 });
    const slow = await leaseTask(h.miner(1), { tokensPerS: 2 });
    const fast = await leaseTask(h.miner(2), { tokensPerS: 1000, maxTokens: 100_000 });
    expect(slow.documents.length).toBe(1);
    expect(fast.documents.length).toBeGreaterThan(slow.documents.length);
    expect(fast.tokens!).toBeGreaterThan(slow.tokens!);
  });

  it('refuses the wrong model with 409 wrong-model, and the demo model unless allowed', async () => {
    await start({ demoModelHash: OTHER_MODEL_HASH });
    const res = await h.miner(1).lease<ErrorReply>({ modelHash: OTHER_MODEL_HASH });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('wrong-model');
    await h.close();
    await start({ demoModelHash: OTHER_MODEL_HASH, allowDemoModel: true });
    const ok = await h.miner(1).lease<LeaseBody>({ modelHash: OTHER_MODEL_HASH, maxTokens: 400 });
    expect(ok.status).toBe(200);
    expect(ok.body.kind === 'task' && ok.body.task.modelHash).toBe(OTHER_MODEL_HASH);
  });

  it('answers bad input with the right 4xx JSON error and changes nothing', async () => {
    await start();
    const miner = h.miner(1);
    const url = h.validator.url;
    const post = (path: string, body: Uint8Array, headers: Record<string, string>) =>
      fetch(url + path, { method: 'POST', headers, body: body as Uint8Array<ArrayBuffer> });
    const json = new TextEncoder().encode('{"client":"x"');
    const signed = (path: string, body: Uint8Array, at = h.clock.now) =>
      signRequest(miner.pair, 'POST', path, { sha256Hex: sha256Hex(body) }, at);
    const expectError = async (res: Response, status: number, code: string) => {
      expect(res.status).toBe(status);
      expect(((await res.json()) as ErrorReply).error.code).toBe(code);
    };
    await expectError(await post(API.lease, json, { ...signed(API.lease, json), 'content-type': 'application/json' }), 400, 'bad-request');
    const wrongShape = new TextEncoder().encode('{"client":5}');
    await expectError(await post(API.lease, wrongShape, signed(API.lease, wrongShape)), 400, 'bad-request');
    const ok = new TextEncoder().encode('{"client":"x","maxTokens":100}');
    await expectError(await post(API.lease, ok, {}), 401, 'unsigned');
    await expectError(await post(API.lease, ok, { ...signed(API.lease, json) }), 401, 'bad-signature');
    await expectError(await post(API.lease, ok, signed(API.lease, ok, h.clock.now - SIGNATURE_WINDOW_MS - 1000)), 401, 'stale-timestamp');
    const headers = signed(API.lease, ok);
    expect((await post(API.lease, ok, headers)).status).toBe(200);
    await expectError(await post(API.lease, ok, headers), 401, 'replayed');
    const huge = new Uint8Array(MAX_JSON_BODY_BYTES + 1).fill(32);
    await expectError(await post(API.lease, huge, signed(API.lease, huge)), 413, 'body-too-large');
    await expectError(await post(API.lease, ok, { ...signed(API.lease, ok), 'content-type': 'text/plain' }), 415, 'unsupported-media-type');
    await expectError(await fetch(`${url}/v1/nothing`), 404, 'not-found');
    await expectError(await fetch(url + API.lease), 405, 'method-not-allowed');
    // Results: unknown task, wrong content type, undecodable bundle, oversized body.
    const task = await leaseTask(miner);
    const bundle = bundleOf(honestLabels(task, 1));
    await expectError(
      await post(API.result('t-nope'), bundle, { ...signed(API.result('t-nope'), bundle), 'content-type': SOFT_LABELS_CONTENT_TYPE }),
      404,
      'unknown-task',
    );
    await expectError(
      await post(API.result(task.taskId), bundle, { ...signed(API.result(task.taskId), bundle), 'content-type': 'application/json' }),
      415,
      'unsupported-media-type',
    );
    const garbage = bundle.slice(0, bundle.length - 3);
    await expectError(
      await post(API.result(task.taskId), garbage, {
        ...signed(API.result(task.taskId), garbage),
        'content-type': SOFT_LABELS_CONTENT_TYPE,
      }),
      400,
      'bad-shape',
    );
    const tooBig = new Uint8Array(MAX_RESULT_BODY_BYTES + 1);
    await expectError(
      await post(API.result(task.taskId), tooBig, { ...signed(API.result(task.taskId), tooBig), 'content-type': SOFT_LABELS_CONTENT_TYPE }),
      413,
      'body-too-large',
    );
    // None of that touched the lease: the real result is still welcome.
    const res = await miner.submit<{ status: string }>(task.taskId, bundle);
    expect(res.status).toBe(200);
    expect(['accepted', 'validated']).toContain(res.body.status);
  });

  it('authenticates a result upload before it answers or stores anything about it', async () => {
    await start({ redundancy: 1 });
    const a = h.miner(1);
    const b = h.miner(2);
    const task = await leaseTask(a);
    const bundle = bundleOf(honestLabels(task, 1));
    const path = API.result(task.taskId);
    const upload = (body: Uint8Array, headers: Record<string, string>, to = path) =>
      fetch(h.validator.url + to, {
        method: 'POST',
        headers: { ...headers, 'content-type': SOFT_LABELS_CONTENT_TYPE },
        body: body as Uint8Array<ArrayBuffer>,
      });
    const signedBy = (pair: typeof a.pair, body: Uint8Array, to = path, at = h.clock.now) =>
      signRequest(pair, 'POST', to, { sha256Hex: sha256Hex(body) }, at);
    const expectError = async (res: Response, status: number, code: string) => {
      expect(res.status).toBe(status);
      expect(((await res.json()) as ErrorReply).error.code).toBe(code);
    };
    // Signed over other bytes; in a's name but signed by b; signed too long ago; not signed.
    await expectError(await upload(bundle, signedBy(a.pair, bundle.subarray(1))), 401, 'bad-signature');
    await expectError(await upload(bundle, { ...signedBy(b.pair, bundle), [HEADER_KEY]: a.address }), 401, 'bad-signature');
    await expectError(
      await upload(bundle, signedBy(a.pair, bundle, path, h.clock.now - SIGNATURE_WINDOW_MS - 1000)),
      401,
      'stale-timestamp',
    );
    await expectError(await upload(bundle, {}), 401, 'unsigned');
    // A bad signature is what an unknown task or a corrupt body hears about, not the task.
    await expectError(
      await upload(bundle, signedBy(a.pair, bundle.subarray(1), API.result('t-nope')), API.result('t-nope')),
      401,
      'bad-signature',
    );
    const corrupt = bundle.slice(0, bundle.length - 3);
    await expectError(await upload(corrupt, signedBy(a.pair, bundle)), 401, 'bad-signature');
    expect((await h.validator.store.resultsOfTask(task.taskId)).length).toBe(0);
    // The same signed upload sent twice at once is taken once; the other is a replay.
    const headers = signedBy(a.pair, bundle);
    const both = await Promise.all([upload(bundle, headers), upload(bundle, headers)]);
    expect(both.map((r) => r.status).sort()).toEqual([200, 401]);
    const replayed = both.find((r) => r.status === 401)!;
    expect(((await replayed.json()) as ErrorReply).error.code).toBe('replayed');
    expect(((await both.find((r) => r.status === 200)!.json()) as { status: string }).status).toMatch(/accepted|validated/);
    await expectError(await upload(bundle, headers), 401, 'replayed');
    expect((await h.validator.store.resultsOfTask(task.taskId)).map((r) => r.miner)).toEqual([a.address]);
  });

  it('answers an identical re-submission like the first and a different one with 409 duplicate', async () => {
    await start({ redundancy: 2 });
    const a = h.miner(1);
    const task = await leaseTask(a);
    const bundle = bundleOf(honestLabels(task, 1));
    const first = await a.submit(task.taskId, bundle);
    expect(first.status).toBe(200);
    const again = await a.submit(task.taskId, bundle);
    expect(again).toEqual(first);
    const other = await a.submit<ErrorReply>(task.taskId, bundleOf(honestLabels(task, 99)));
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('duplicate');
  });

  it('lets another miner post nothing for a task it does not hold', async () => {
    await start();
    const task = await leaseTask(h.miner(1));
    const res = await h.miner(2).submit<ErrorReply>(task.taskId, bundleOf(honestLabels(task, 2)));
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('unknown-task');
  });

  it('links a payout address proven by the payout key, and refuses listed addresses and bad proofs', async () => {
    const payout = sr25519PairFromSeed(new Uint8Array(32).fill(42));
    const refused = sr25519PairFromSeed(new Uint8Array(32).fill(43));
    await start({ refusedPayoutAddresses: [addressOf(refused.publicKey)] });
    const miner = h.miner(1);
    const link = async (pair: typeof payout, signer = pair) => {
      const challenge = PayoutChallengeResponse.parse((await miner.request('POST', API.payoutChallenge, new Uint8Array(0))).body);
      const signature = u8aToHex(sr25519Sign(new TextEncoder().encode(challenge.message), signer));
      const body = { payoutAddress: addressOf(pair.publicKey), challengeId: challenge.challengeId, signature };
      return { challenge, res: await miner.request<ErrorReply>('POST', API.payoutLink, new TextEncoder().encode(JSON.stringify(body))) };
    };
    const forged = await link(payout, refused);
    expect(forged.res.status).toBe(400);
    expect(forged.res.body.error.code).toBe('bad-payout-proof');
    expect((await link(refused)).res.body.error.code).toBe('refused-address');
    const good = await link(payout);
    expect(good.res.status).toBe(200);
    const me = MeResponse.parse((await miner.get(API.me)).body);
    expect(me.payoutAddress).toBe(addressOf(payout.publicKey));
    // A spent challenge cannot be reused.
    const replay = { payoutAddress: addressOf(payout.publicKey), challengeId: good.challenge.challengeId, signature: '0x00' };
    const res = await miner.request<ErrorReply>('POST', API.payoutLink, new TextEncoder().encode(JSON.stringify(replay)));
    expect(res.body.error.code).toBe('bad-payout-proof');
  });

  it('keeps replay protection across validator processes sharing a database', async () => {
    await start();
    const second = await (
      await import('../../src-validator/index')
    ).startValidator({
      port: 0,
      dataDir: h.dataDir,
      modelHash: MODEL_HASH,
      store: h.validator.store,
      clock: () => h.clock.now,
    });
    try {
      const body = new TextEncoder().encode('{"client":"x"}');
      const headers = { ...signRequest(h.miner(1).pair, 'POST', API.lease, body, h.clock.now), 'content-type': 'application/json' };
      expect((await fetch(h.validator.url + API.lease, { method: 'POST', headers, body })).status).toBe(200);
      const res = await fetch(second.url + API.lease, { method: 'POST', headers, body });
      expect(res.status).toBe(401);
      expect(((await res.json()) as ErrorReply).error.code).toBe('replayed');
      expect(headers[HEADER_NONCE]).toMatch(/^[0-9a-f]{32}$/);
    } finally {
      await second.close();
    }
  });
});
