import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SOFT_LABELS_CONTENT_TYPE } from '../../src-shared/protocol';
import { BodyBuffers } from '../../src-validator/http/body-buffers';
import { readBody } from '../../src-validator/http/read-body';
import { startHarness, STORE_KINDS, type Harness } from './harness';
import { OpenConnection, portOf, rawExchange, requestHead, signatureHeaders, sleepMs, uploadHead, type RawAnswer } from './raw-http';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

const HEALTH = 'GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';

async function expectHealthy(port: number): Promise<void> {
  const answer = await rawExchange(port, HEALTH);
  expect(answer.statuses, answer.raw).toEqual([200]);
}

/**
 * A refusal: at least one answer (Node's parser answers what it cannot parse itself, 400 or 431),
 * and every answer 4xx. Only a request whose client hangs up mid-body may get none.
 */
function expectRefused(answer: RawAnswer, what: string, mayGoUnanswered = false): void {
  expect(answer.timedOut, `${what}: the server neither answered nor closed`).toBe(false);
  if (!mayGoUnanswered) expect(answer.statuses.length, `${what}: no answer`).toBeGreaterThan(0);
  for (const status of answer.statuses) {
    expect(status, `${what}: ${answer.raw.slice(0, 400)}`).toBeGreaterThanOrEqual(400);
    expect(status, `${what}: ${answer.raw.slice(0, 400)}`).toBeLessThan(500);
  }
}

describe.each(STORE_KINDS)('hostile requests against a real validator (%s)', (kind) => {
  let h: Harness;
  let port: number;
  beforeAll(async () => {
    h = await startHarness(kind);
    port = portOf(h.validator.url);
  });
  afterAll(() => h.close());

  const BYTE_CASES: [string, () => string | Buffer][] = [
    ['Host with a port out of range', () => 'GET /v1/health HTTP/1.1\r\nHost: a:99999\r\n\r\n'],
    ['Host with an unclosed IPv6 bracket', () => 'GET /v1/health HTTP/1.1\r\nHost: [::1\r\n\r\n'],
    ['Host with userinfo', () => 'GET /v1/health HTTP/1.1\r\nHost: me@evil\r\n\r\n'],
    ['two Host headers', () => 'GET /v1/health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n'],
    ['HTTP/1.1 without Host', () => 'GET /v1/health HTTP/1.1\r\n\r\n'],
    ['asterisk-form target', () => 'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['asterisk target on GET', () => 'GET * HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['absolute-form target', () => 'GET http://evil/v1/health HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['absolute-form target with a bad port', () => 'GET http://a:99999/v1/health HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['authority-looking path', () => 'GET //x/v1/health HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['authority-looking path with a bad port', () => 'GET //x:99999/v1/health HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['authority-looking path with an unclosed bracket', () => 'GET //[::1/v1/health HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['relative target', () => 'GET v1/health HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['16 KiB target', () => `GET /v1/${'a'.repeat(16 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`],
    ['8 KiB target', () => `GET /v1/${'%41'.repeat(2700)} HTTP/1.1\r\nHost: x\r\n\r\n`],
    ['bytes above 0x7f in the target', () => Buffer.from('GET /v1/\xff\xfe/result HTTP/1.1\r\nHost: x\r\n\r\n', 'latin1')],
    [
      'bad %-escape in an unsigned result path',
      () =>
        `POST /v1/tasks/%E0%A4%A/result HTTP/1.1\r\nHost: x\r\ncontent-type: ${SOFT_LABELS_CONTENT_TYPE}\r\ncontent-length: 3\r\n\r\nabc`,
    ],
    ['bad %-escape in a query', () => 'GET /v1/leaderboard?page=%zz&address=%E0%A4%A HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['conflicting content-length', () => 'POST /v1/lease HTTP/1.1\r\nHost: x\r\ncontent-length: 2\r\ncontent-length: 5\r\n\r\n{}abc'],
    ['repeated content-length', () => 'POST /v1/lease HTTP/1.1\r\nHost: x\r\ncontent-length: 2\r\ncontent-length: 2\r\n\r\n{}'],
    ['content-length not a number', () => 'POST /v1/lease HTTP/1.1\r\nHost: x\r\ncontent-length: 1e3\r\n\r\n{}'],
    ['content-length past 2^64', () => 'POST /v1/lease HTTP/1.1\r\nHost: x\r\ncontent-length: 99999999999999999999999\r\n\r\n{}'],
    [
      'content-length and chunked together',
      () => 'POST /v1/lease HTTP/1.1\r\nHost: x\r\ncontent-length: 2\r\ntransfer-encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n',
    ],
    ['garbage chunk size', () => 'POST /v1/lease HTTP/1.1\r\nHost: x\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n'],
    ['chunk longer than its size', () => 'POST /v1/lease HTTP/1.1\r\nHost: x\r\ntransfer-encoding: chunked\r\n\r\n1\r\n{}}}\r\n0\r\n\r\n'],
    [
      'chunked result upload past the limit',
      () =>
        `POST /v1/tasks/t/result HTTP/1.1\r\nHost: x\r\ncontent-type: ${SOFT_LABELS_CONTENT_TYPE}\r\ntransfer-encoding: chunked\r\n\r\n` +
        `${(9 << 20).toString(16)}\r\n${'a'.repeat(9 << 20)}\r\n0\r\n\r\n`,
    ],
    ['unknown transfer coding', () => 'POST /v1/lease HTTP/1.1\r\nHost: x\r\ntransfer-encoding: gzip\r\n\r\n{}'],
    ['control byte in a header name', () => 'GET /v1/health HTTP/1.1\r\nHost: x\r\nx\x01y: 1\r\n\r\n'],
    ['space in a header name', () => 'GET /v1/health HTTP/1.1\r\nHost: x\r\nbad header: 1\r\n\r\n'],
    ['latin-1 byte in a header name', () => Buffer.from('GET /v1/health HTTP/1.1\r\nHost: x\r\nx-\xe9: 1\r\n\r\n', 'latin1')],
    ['header without a colon', () => 'GET /v1/health HTTP/1.1\r\nHost: x\r\nno-colon\r\n\r\n'],
    ['obsolete line folding', () => 'GET /v1/health HTTP/1.1\r\nHost: x\r\nx-a: 1\r\n folded\r\n\r\n'],
    ['4,000 headers', () => `GET /v1/health HTTP/1.1\r\nHost: x\r\n${'a: 1\r\n'.repeat(4000)}\r\n`],
    ['lower-case method', () => 'get /v1/health HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['unknown method', () => 'BREW /v1/health HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['unknown protocol version', () => 'GET /v1/health HTTP/9.9\r\nHost: x\r\n\r\n'],
    ['bare LF line ends', () => 'GET /v1/health HTTP/1.1\nHost: x\n\n'],
    ['body larger than declared', () => `POST /v1/lease HTTP/1.1\r\nHost: x\r\ncontent-length: 2\r\n\r\n{}${'garbage '.repeat(100)}`],
    [
      'result body shorter than declared',
      () => `POST /v1/tasks/t/result HTTP/1.1\r\nHost: x\r\ncontent-type: ${SOFT_LABELS_CONTENT_TYPE}\r\ncontent-length: 1000\r\n\r\nabc`,
    ],
    [
      'result upload declared past the limit',
      () => `POST /v1/tasks/t/result HTTP/1.1\r\nHost: x\r\ncontent-type: ${SOFT_LABELS_CONTENT_TYPE}\r\ncontent-length: 9999999\r\n\r\n`,
    ],
  ];

  it.each(BYTE_CASES)('%s: refused with a 4xx; health still answers', async (what, bytes) => {
    expectRefused(await rawExchange(port, bytes()), what, what === 'result body shorter than declared');
    await expectHealthy(port);
  });

  it('HTTP/1.0 without Host is a valid request and is answered', async () => {
    const answer = await rawExchange(port, 'GET /v1/health HTTP/1.0\r\n\r\n');
    expect(answer.statuses).toEqual([200]);
  });

  it('a bad %-escape in a signed result path is a 400, not a failure', async () => {
    const target = '/v1/tasks/%E0%A4%A/result';
    const body = Buffer.from('not a bundle');
    const head = requestHead('POST', target, [
      ['host', 'x'],
      ['content-type', SOFT_LABELS_CONTENT_TYPE],
      ['content-length', String(body.length)],
      ...Object.entries(signatureHeaders(h.miner(1), 'POST', target, body, h.clock.now)),
    ]);
    const answer = await rawExchange(port, Buffer.concat([Buffer.from(head), body]));
    expect(answer.statuses, answer.raw).toEqual([400]);
    expect(answer.raw).toContain('"bad-request"');
    await expectHealthy(port);
  });

  it('NUL and absurd numbers in queries, paths and JSON are refused or answered, never a failure', async () => {
    const miner = h.miner(2);
    const signedExchange = (method: string, target: string, body = Buffer.alloc(0), type = 'application/json') =>
      rawExchange(
        port,
        Buffer.concat([
          Buffer.from(
            requestHead(method, target, [
              ['host', 'x'],
              ['content-type', type],
              ['content-length', String(body.length)],
              ...Object.entries(signatureHeaders(miner, method, target, body, h.clock.now)),
            ]),
          ),
          body,
        ]),
      );
    const answers = [
      await rawExchange(port, 'GET /v1/leaderboard?gpuClass=%00&address=%00 HTTP/1.1\r\nHost: x\r\n\r\n'),
      await signedExchange('GET', '/v1/me/ledger?limit=abc&before=99999999999999999999999:x'),
      await signedExchange('GET', '/v1/me/ledger?limit=1e400&before=%zz'),
      await signedExchange('GET', '/v1/me/ledger?before=1:%00'),
      await signedExchange('POST', '/v1/tasks/%00/result', Buffer.from('x'), SOFT_LABELS_CONTENT_TYPE),
      await signedExchange(
        'POST',
        '/v1/lease',
        Buffer.from(JSON.stringify({ client: 'x\u0000', name: '\u0000', gpuClass: '\u0000', maxTokens: 1e300, tokensPerS: 1e300 })),
      ),
      await signedExchange('POST', '/v1/lease', Buffer.from(JSON.stringify({ client: 'x', maxTokens: 1e300, tokensPerS: 1e300 }))),
      await signedExchange(
        'POST',
        '/v1/payout/link',
        Buffer.from(JSON.stringify({ payoutAddress: miner.address, challengeId: '\u0000', signature: '0x00' })),
      ),
    ];
    for (const answer of answers) {
      expect(answer.statuses.length, answer.raw).toBe(1);
      expect(answer.statuses[0], answer.raw).toBeLessThan(500);
    }
  });

  it('signed queries with absurd numbers are refused or answered, never a failure', async () => {
    const miner = h.miner(2);
    for (const target of ['/v1/me/ledger?limit=abc&before=99999999999999999999999:x', '/v1/me/ledger?limit=1e400&before=%zz']) {
      const head = requestHead('GET', target, [
        ['host', 'x'],
        ...Object.entries(signatureHeaders(miner, 'GET', target, Buffer.alloc(0), h.clock.now)),
      ]);
      const answer = await rawExchange(port, head);
      expect(answer.statuses.length, answer.raw).toBe(1);
      expect(answer.statuses[0], answer.raw).toBeLessThan(500);
    }
  });
});

describe('slow uploads', () => {
  let h: Harness;
  let port: number;
  beforeAll(async () => {
    h = await startHarness('sqlite', { uploadDeadlineMs: 400 });
    port = portOf(h.validator.url);
  });
  afterAll(() => h.close());

  it('a body trickled a byte at a time is cut off at the deadline while others are served', async () => {
    const conn = new OpenConnection(port);
    await conn.ready;
    conn.write(uploadHead(h.miner(3), 'slow-task', 1000, h.clock.now));
    const startedAt = Date.now();
    let healthyMeanwhile = 0;
    while (!conn.closed && Date.now() - startedAt < 5_000) {
      conn.write('x');
      const health = await rawExchange(port, HEALTH);
      if (health.statuses[0] === 200) healthyMeanwhile++;
      await sleepMs(50);
    }
    expect(conn.closed).toBe(true);
    expect(Date.now() - startedAt).toBeLessThan(3_000);
    expect(conn.statuses).toEqual([408]);
    expect(conn.raw).toContain('"too-slow"');
    expect(healthyMeanwhile).toBeGreaterThan(2);
  });

  it('an unsigned trickled JSON body is cut off too', async () => {
    const conn = new OpenConnection(port);
    await conn.ready;
    conn.write('POST /v1/lease HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{');
    const startedAt = Date.now();
    while (!conn.closed && Date.now() - startedAt < 5_000) {
      conn.write(' ');
      await sleepMs(50);
    }
    expect(conn.closed).toBe(true);
    expect(conn.statuses).toEqual([408]);
  });
});

describe('readBody deadline', () => {
  it('gives the pooled buffer back when the deadline passes', async () => {
    const buffers = new BodyBuffers();
    let released = 0;
    const acquire = buffers.acquire.bind(buffers);
    buffers.acquire = (size) => {
      const lease = acquire(size);
      return { bytes: lease.bytes, release: () => (released++, lease.release()) };
    };
    const outcome = new Promise<unknown>((resolve) => {
      const server = createServer((req, res) => {
        readBody(req, 1 << 20, buffers, 200).then(resolve, (error: unknown) => {
          resolve(error);
          res.end();
          server.close();
          server.closeAllConnections();
        });
      });
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        const req = request({ port, host: '127.0.0.1', method: 'POST', headers: { 'content-length': '100' } });
        req.on('error', () => undefined);
        req.write('x');
      });
    });
    expect(await outcome).toMatchObject({ code: 'too-slow' });
    expect(released).toBe(1);
  });
});

describe('concurrent uploads per key', () => {
  let h: Harness;
  let port: number;
  beforeAll(async () => {
    h = await startHarness('sqlite', { uploadsPerKey: 2, uploadDeadlineMs: 1_500 });
    port = portOf(h.validator.url);
  });
  afterAll(() => h.close());

  it('a third upload of one key in flight gets 429 with retry-after; other keys go on; slots come back on abort and deadline', async () => {
    const miner = h.miner(4);
    const open = [new OpenConnection(port), new OpenConnection(port)];
    for (const c of open) {
      await c.ready;
      c.write(uploadHead(miner, 'held', 100, h.clock.now));
    }
    await sleepMs(300);
    const third = await rawExchange(port, uploadHead(miner, 'held', 100, h.clock.now));
    expect(third.statuses, third.raw).toEqual([429]);
    expect(third.raw).toMatch(/\r\nretry-after: \d+\r\n/i);
    expect(third.raw).toContain('"rate-limited"');

    // Another key is not held back by the first one's uploads.
    const other = await rawExchange(port, uploadHead(h.miner(5), 'held', 3, h.clock.now) + 'abc');
    expect(other.statuses, other.raw).toEqual([401]);

    // A client that gives up frees its slot.
    open[0]!.destroy();
    await sleepMs(300);
    const afterAbort = await rawExchange(port, uploadHead(miner, 'held', 3, h.clock.now) + 'abc');
    expect(afterAbort.statuses, afterAbort.raw).toEqual([401]);

    // The deadline frees the other one.
    const third2 = new OpenConnection(port);
    await third2.ready;
    third2.write(uploadHead(miner, 'held', 100, h.clock.now));
    await sleepMs(300);
    expect((await rawExchange(port, uploadHead(miner, 'held', 100, h.clock.now))).statuses).toEqual([429]);
    for (const startedAt = Date.now(); !(open[1]!.closed && third2.closed) && Date.now() - startedAt < 5_000;) await sleepMs(50);
    expect(open[1]!.statuses).toEqual([408]);
    expect(third2.statuses).toEqual([408]);
    const afterDeadline = await rawExchange(port, uploadHead(miner, 'held', 3, h.clock.now) + 'abc');
    expect(afterDeadline.statuses, afterDeadline.raw).toEqual([401]);
    await expectHealthy(port);
  });

  it('an upload without a valid key is refused before its body is read', async () => {
    const head = `POST /v1/tasks/t/result HTTP/1.1\r\nHost: x\r\ncontent-type: ${SOFT_LABELS_CONTENT_TYPE}\r\ncontent-length: 100\r\nx-nya-key: nobody\r\n\r\n`;
    // Never half-closed: an answer that waited for the body would not come at all.
    const answer = await rawExchange(port, head, { waitMs: 1_000, endAfterMs: 5_000 });
    expect(answer.statuses, answer.raw).toEqual([401]);
  });
});
