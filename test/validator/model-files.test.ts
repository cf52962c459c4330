import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { API, HealthResponse, ModelResponse } from '../../src-shared/protocol';
import { silentLogger } from '../../src-node/log';
import type { TeacherVariantSpec } from '../../src-validator/index';
import { BandwidthPacer } from '../../src-validator/http/bandwidth';
import { byteRange, notModified, rangeStillValid } from '../../src-validator/http/byte-range';
import { startHarness, type Harness } from './harness';
import { portOf, rawExchange } from './raw-http';

const INT4_HASH = 'a1'.repeat(32);
const FP16_HASH = 'b2'.repeat(32);
const MIRROR = 'https://huggingface.co/org/repo/resolve/0123456789abcdef0123456789abcdef01234567/';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

let root: string;
const files: Record<string, Buffer> = {};

/** Two small variant folders, each with a file that is there but not listed. */
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'nya-model-files-'));
  const write = (path: string, bytes: Buffer) => {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), bytes);
    files[path] = bytes;
  };
  write('int4/config.json', Buffer.from('{"vocab_size":32768}\n'));
  write('int4/model.onnx', randomBytes(4096));
  write('int4/model.onnx_data', randomBytes(2 * 1024 * 1024));
  write('int4/secret.txt', Buffer.from('not listed'));
  write('fp16/model.onnx', randomBytes(1000));
  write('fp16/onnx/model.onnx_data', randomBytes(300_000));
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

function specs(): TeacherVariantSpec[] {
  return [
    {
      id: 'test-int4',
      label: 'Test int4',
      modelHash: INT4_HASH,
      minVramMiB: 5632,
      dir: join(root, 'int4'),
      files: ['config.json', 'model.onnx', 'model.onnx_data'],
      mirrors: [MIRROR],
    },
    {
      id: 'test-fp16',
      label: 'Test fp16',
      modelHash: FP16_HASH,
      minVramMiB: 15360,
      dir: join(root, 'fp16'),
      files: ['model.onnx', 'onnx/model.onnx_data'],
      mirrors: [],
    },
  ];
}

/** One request from a chosen local address, its body left unread (a download that holds its slot). */
function heldDownload(url: string, localAddress: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request(url, { localAddress }, (res) => {
      res.pause();
      resolve(res);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the validator serves its teacher variants', () => {
  let h: Harness;
  const start = async (opts: Parameters<typeof startHarness>[1] = {}) => {
    h = await startHarness('sqlite', { variants: specs(), modelFiles: { mibPerS: 64 }, ...opts });
  };
  const url = (variant: string, path: string) => h.validator.url + API.modelFile(variant, path);
  afterEach(async () => {
    await h?.close();
  });

  it('lists each variant with its files, sizes and sha256, mirrors before its own copy; health names them', async () => {
    await start();
    const catalog = ModelResponse.parse(await (await fetch(h.validator.url + API.model)).json());
    expect(catalog.variants.map((v) => [v.id, v.modelHash, v.minVramMiB])).toEqual([
      ['test-int4', INT4_HASH, 5632],
      ['test-fp16', FP16_HASH, 15360],
    ]);
    const int4 = catalog.variants[0]!;
    expect(int4.files).toEqual(
      ['config.json', 'model.onnx', 'model.onnx_data'].map((path) => ({
        path,
        bytes: files[`int4/${path}`]!.length,
        sha256: sha256(files[`int4/${path}`]!),
      })),
    );
    expect(int4.sources).toEqual([MIRROR, '/v1/model/files/test-int4/']);
    expect(catalog.variants[1]!.sources).toEqual(['/v1/model/files/test-fp16/']);
    // A relative source resolves against the validator's URL to where the files are.
    const file = new URL(int4.sources[1]! + 'model.onnx', h.validator.url);
    expect(Buffer.from(await (await fetch(file)).arrayBuffer()).equals(files['int4/model.onnx']!)).toBe(true);
    const health = HealthResponse.parse(await (await fetch(h.validator.url + API.health)).json());
    expect(health.modelHash).toBe(INT4_HASH);
    expect(health.variants).toEqual(['test-int4', 'test-fp16']);
  });

  it('serves a file whole and by HEAD, with its sha256 as a strong ETag', async () => {
    await start();
    const bytes = files['fp16/onnx/model.onnx_data']!;
    const res = await fetch(url('test-fp16', 'onnx/model.onnx_data'));
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe(`"${sha256(bytes)}"`);
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);
    const head = await fetch(url('test-fp16', 'onnx/model.onnx_data'), { method: 'HEAD' });
    expect([head.status, head.headers.get('content-length'), (await head.arrayBuffer()).byteLength]).toEqual([
      200,
      String(bytes.length),
      0,
    ]);
  });

  it('answers Range with 206 and Content-Range, several ranges with the whole file, and a bad or past-the-end range with 416', async () => {
    await start();
    const bytes = files['int4/model.onnx']!;
    const size = bytes.length;
    const cases: [string, number, [number, number] | null][] = [
      ['bytes=0-99', 206, [0, 99]],
      ['bytes=4000-', 206, [4000, size - 1]],
      ['bytes=-96', 206, [size - 96, size - 1]],
      ['bytes=4000-999999999999999999999', 206, [4000, size - 1]],
      ['bytes=0-1,5-6', 200, null],
      ['items=0-1', 200, null],
      [`bytes=${size}-`, 416, null],
      ['bytes=5-1', 416, null],
      ['bytes=abc', 416, null],
      ['bytes=-0', 416, null],
    ];
    for (const [range, status, part] of cases) {
      const res = await fetch(url('test-int4', 'model.onnx'), { headers: { range } });
      const body = Buffer.from(await res.arrayBuffer());
      expect([range, res.status]).toEqual([range, status]);
      if (status === 206) {
        expect(res.headers.get('content-range')).toBe(`bytes ${part![0]}-${part![1]}/${size}`);
        expect(body.equals(bytes.subarray(part![0], part![1] + 1))).toBe(true);
      } else if (status === 200) {
        expect(body.equals(bytes)).toBe(true);
      } else {
        expect(res.headers.get('content-range')).toBe(`bytes */${size}`);
        expect((JSON.parse(body.toString()) as { error: { code: string } }).error.code).toBe('range-not-satisfiable');
      }
    }
  });

  it('answers If-None-Match with 304, and honours a Range only under an If-Range naming this file', async () => {
    await start();
    const bytes = files['int4/config.json']!;
    const etag = `"${sha256(bytes)}"`;
    const notChanged = await fetch(url('test-int4', 'config.json'), { headers: { 'if-none-match': `"other", W/${etag}` } });
    expect([notChanged.status, notChanged.headers.get('etag')]).toEqual([304, etag]);
    const resumed = await fetch(url('test-int4', 'config.json'), { headers: { range: 'bytes=2-', 'if-range': etag } });
    expect(resumed.status).toBe(206);
    expect(Buffer.from(await resumed.arrayBuffer()).equals(bytes.subarray(2))).toBe(true);
    for (const ifRange of ['"0000"', 'Mon, 01 Jan 2024 00:00:00 GMT', `W/${etag}`]) {
      const restarted = await fetch(url('test-int4', 'config.json'), { headers: { range: 'bytes=2-', 'if-range': ifRange } });
      expect(restarted.status).toBe(200);
      expect(Buffer.from(await restarted.arrayBuffer()).equals(bytes)).toBe(true);
    }
  });

  it('serves only listed files: unlisted, unknown and traversing paths get 4xx and no file bytes', async () => {
    await start();
    const port = portOf(h.validator.url);
    const targets = [
      '/v1/model/files/test-int4/secret.txt',
      '/v1/model/files/test-int4/../int4/secret.txt',
      '/v1/model/files/test-int4/%2e%2e/fp16/model.onnx',
      '/v1/model/files/test-int4/..%2Fsecret.txt',
      '/v1/model/files/test-int4/%2Fetc%2Fpasswd',
      '/v1/model/files/test-int4//config.json',
      '/v1/model/files/test-int4/config.json%00',
      '/v1/model/files/test-int4/%zz',
      '/v1/model/files/no-such/model.onnx',
      '/v1/model/files/test-fp16/model.onnx_data',
      '/v1/model/files/',
      `/v1/model/files/test-int4/${'../'.repeat(50)}etc/passwd`,
    ];
    for (const target of targets) {
      const answer = await rawExchange(port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
      expect([target, answer.statuses.length === 1 && answer.statuses[0]! >= 400 && answer.statuses[0]! < 500]).toEqual([target, true]);
      expect(answer.raw).not.toContain('not listed');
    }
    const post = await fetch(url('test-int4', 'config.json'), { method: 'POST' });
    expect(post.status).toBe(405);
  });

  it('bounds downloads per address and in total with 429 and Retry-After, and still answers check traffic', async () => {
    await start({ modelFiles: { mibPerS: 0.05, perAddress: 2, total: 3 } });
    const weights = url('test-int4', 'model.onnx_data');
    const held = [await heldDownload(weights, '127.0.0.1'), await heldDownload(weights, '127.0.0.1')];
    try {
      expect(held.map((r) => r.statusCode)).toEqual([200, 200]);
      const third = await fetch(weights);
      expect([third.status, third.headers.get('retry-after')]).toEqual([429, '10']);
      expect(((await third.json()) as { error: { message: string } }).error.message).toMatch(/This address already has 2 downloads/);
      // Another address may still download, until the total is reached.
      held.push(await heldDownload(weights, '127.0.0.2'));
      expect(held[2]!.statusCode).toBe(200);
      const fourth = await new Promise<IncomingMessage>((resolve) => {
        request(weights, { localAddress: '127.0.0.3' }, (res) => resolve(res)).end();
      });
      expect(fourth.statusCode).toBe(429);
      fourth.resume();
      // HEAD, 304 and the catalog take no slot; the rest of the API answers as before.
      expect((await fetch(weights, { method: 'HEAD' })).status).toBe(200);
      expect((await fetch(h.validator.url + API.model)).status).toBe(200);
      expect((await fetch(h.validator.url + API.health)).status).toBe(200);
    } finally {
      for (const res of held) res.destroy();
    }
  });

  it('refuses with 503 to serve a file that changed since it was hashed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nya-model-changed-'));
    try {
      writeFileSync(join(dir, 'model.onnx'), randomBytes(100));
      const spec = { ...specs()[1]!, dir, files: ['model.onnx'] };
      await start({ variants: [spec] });
      expect((await fetch(url('test-fp16', 'model.onnx'))).status).toBe(200);
      appendFileSync(join(dir, 'model.onnx'), 'x');
      const res = await fetch(url('test-fp16', 'model.onnx'));
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unavailable');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('hashes the files once: a restart reads the cache, a touched file is hashed again', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'nya-model-cache-'));
    const hashedOnStart = async () => {
      const seen: string[] = [];
      const v = await startHarness('sqlite', { variants: specs(), dataDir, log: { ...silentLogger, info: (m: string) => seen.push(m) } });
      await v.close();
      return seen.filter((m) => m.startsWith('hashing '));
    };
    try {
      expect((await hashedOnStart()).length).toBe(5);
      expect(await hashedOnStart()).toEqual([]);
      utimesSync(join(root, 'int4/config.json'), new Date(), new Date(Date.now() + 5000));
      expect(await hashedOnStart()).toEqual([expect.stringContaining('config.json')]);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('lists only the mirrors when it serves no files, and leaves out a variant no one serves', async () => {
    await start({ modelFiles: { mibPerS: 0 } });
    const catalog = ModelResponse.parse(await (await fetch(h.validator.url + API.model)).json());
    expect(catalog.variants.map((v) => [v.id, v.sources])).toEqual([['test-int4', [MIRROR]]]);
    expect((await fetch(url('test-int4', 'model.onnx'))).status).toBe(404);
  });
});

describe('Range, If-Range and If-None-Match parsing', () => {
  it.each([
    [undefined, 100, { kind: 'whole' }],
    ['bytes=0-0', 100, { kind: 'part', start: 0, end: 0 }],
    ['bytes= 10-19 ', 100, { kind: 'part', start: 10, end: 19 }],
    ['bytes=90-200', 100, { kind: 'part', start: 90, end: 99 }],
    ['bytes=-500', 100, { kind: 'part', start: 0, end: 99 }],
    ['BYTES=1-2', 100, { kind: 'part', start: 1, end: 2 }],
    ['bytes=100-', 100, { kind: 'unsatisfiable' }],
    ['bytes=0-', 0, { kind: 'unsatisfiable' }],
    ['bytes=-1', 0, { kind: 'unsatisfiable' }],
    ['bytes=1-2,3-4', 100, { kind: 'whole' }],
    ['bytes=1-2,x', 100, { kind: 'unsatisfiable' }],
    ['bytes=1e3-', 100, { kind: 'unsatisfiable' }],
    ['bytes=0x10-', 100, { kind: 'unsatisfiable' }],
    ['bytes=-', 100, { kind: 'unsatisfiable' }],
    ['bytes', 100, { kind: 'unsatisfiable' }],
    ['none=1-2', 100, { kind: 'whole' }],
    [`bytes=${'9'.repeat(400)}-`, 100, { kind: 'unsatisfiable' }],
  ])('Range %j of a %i-byte file', (header, size, answer) => {
    expect(byteRange(header, size)).toEqual(answer);
  });

  it('compares entity tags as RFC 9110 asks', () => {
    expect(notModified('"abc"', 'abc')).toBe(true);
    expect(notModified('W/"abc"', 'abc')).toBe(true);
    expect(notModified('"x", "abc"', 'abc')).toBe(true);
    expect(notModified('*', 'abc')).toBe(true);
    expect(notModified('"abcd"', 'abc')).toBe(false);
    expect(notModified(undefined, 'abc')).toBe(false);
    expect(rangeStillValid(undefined, 'abc')).toBe(true);
    expect(rangeStillValid('"abc"', 'abc')).toBe(true);
    expect(rangeStillValid('W/"abc"', 'abc')).toBe(false);
    expect(rangeStillValid('Tue, 01 Jan 2030 00:00:00 GMT', 'abc')).toBe(false);
  });

  it('paces all downloads together at one byte rate', () => {
    const clock = { now: 0 };
    const pacer = new BandwidthPacer(1000, () => clock.now);
    expect(pacer.reserve(500)).toBe(0);
    expect(pacer.reserve(500)).toBe(500);
    expect(pacer.reserve(1000)).toBe(1000);
    clock.now = 5000;
    expect(pacer.reserve(100)).toBe(0);
  });
});
