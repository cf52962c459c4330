import { execFile } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIMESTAMP, SOFT_LABELS_CONTENT_TYPE, type Task } from '../../src-shared/protocol';
import { mulberry32 } from '../../src-shared/prng';
import { SimMiner } from '../../src-validator/bench/sim/sim-miner';
import { NyaProcess, ROOT } from '../browser/nya-process';
import { bundleOf, honestLabels } from './harness';
import { portOf, rawExchange, signatureHeaders } from './raw-http';

/**
 * A few thousand malformed requests, mutations of valid ones, against a real `nya validator`
 * process: none may stop it, wedge a connection or get a 5xx. Seeded, so a failure reproduces
 * (NYA_FUZZ_SEED picks another run).
 */
const run = promisify(execFile);
const SEED = Number(process.env.NYA_FUZZ_SEED ?? 20_260_611);
const REQUESTS = 3_000;
const PARALLEL = 8;

type Rand = () => number;
const pick = <T>(rand: Rand, items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
const chance = (rand: Rand, p: number) => rand() < p;

interface Draft {
  method: string;
  target: string;
  headers: [string, string][];
  body: Buffer;
  signed: boolean;
}

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH', 'TRACE', 'get', 'G\u0001T', 'POST ', 'QUERY', 'BREW'];
const ESCAPES = ['%', '%Z', '%zz', '%E0%A4%A', '%00', '%2F', '%FF', '%C0%AF', '/..', '//', '?', '#', ' ', '\t', '\u00ff', '%%', '&', '='];
const HOSTS = ['a:99999', '[::1', '', 'x y', 'me@evil', '127.0.0.1:7431', '[::1]:1', 'a'.repeat(300), '\u00e9'];
const AUTHORITIES = ['evil', 'a:99999', '[::1', 'x:0', '127.0.0.1'];
/** Teacher files: small ones whole, the weights only by range (a whole 8 MB body per request would make this a bandwidth test). */
const SMALL_MODEL_FILES = ['config.json', 'model.onnx', 'tokenizer.json'];
const TRAVERSALS = [
  '/v1/model/files/served/../../../etc/passwd',
  '/v1/model/files/served/%2e%2e/%2e%2e/etc/passwd',
  '/v1/model/files/served/..%2F..%2Fvalidator.sqlite',
  '/v1/model/files/../served/config.json',
  '/v1/model/files/served//config.json',
  '/v1/model/files/served/config.json%00',
  '/v1/model/files/served/model.onnx_data.sha256',
  '/v1/model/files/served/%2Fetc%2Fpasswd',
  '/v1/model/files/SERVED/config.json',
  '/v1/model/files/served',
  '/v1/model/files/',
  `/v1/model/files/served/${'a/'.repeat(300)}x`,
];
const RANGES = [
  'bytes=0-99',
  'bytes=-10',
  'bytes=100-',
  'bytes=5-1',
  'bytes=abc',
  'bytes=0-1,2-3',
  'bytes=0-1, x',
  'bytes=99999999999999999999-',
  'bytes=0-99999999999999999999',
  'items=0-1',
  'bytes=-0',
  'bytes=--1',
  'bytes=',
  '=',
  `bytes=0-${'9'.repeat(400)}`,
];
const ENTITY_TAGS = ['*', '"x"', 'W/"x"', '"', '"a", W/"b", *', 'Mon, 01 Jan 2024 00:00:00 GMT', '\u00ff'];

function randomBytes(rand: Rand, n: number): Buffer {
  return Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));
}

function randomToken(rand: Rand, n: number): string {
  return String.fromCharCode(...Array.from({ length: n }, () => 1 + Math.floor(rand() * 254)));
}

function insertAt(rand: Rand, text: string, insert: string): string {
  const at = Math.floor(rand() * (text.length + 1));
  return text.slice(0, at) + insert + text.slice(at);
}

function mutateTarget(rand: Rand, target: string): string {
  switch (Math.floor(rand() * 7)) {
    case 0:
      return insertAt(rand, target, pick(rand, ESCAPES));
    case 1:
      return insertAt(rand, target, randomToken(rand, 1 + Math.floor(rand() * 4)));
    case 2:
      return `http://${pick(rand, AUTHORITIES)}${target}`;
    case 3:
      return pick(rand, ['*', '', 'v1/health', `/${target}`, `//${pick(rand, AUTHORITIES)}${target}`]);
    case 4:
      return target.slice(0, Math.floor(rand() * target.length));
    case 5:
      return target + '/x'.repeat(Math.floor(rand() * 9000));
    default:
      return `${target}${target.includes('?') ? '&' : '?'}${pick(rand, ['page', 'pageSize', 'limit', 'before', 'address'])}=${pick(rand, ['-1', '1e400', 'abc', '%zz', '99999999999999999999999:x', ''])}`;
  }
}

function mutateHeaders(rand: Rand, headers: [string, string][], bodyLength: number): void {
  const i = Math.floor(rand() * headers.length);
  switch (Math.floor(rand() * 6)) {
    case 0:
      if (headers.length > 0) headers.splice(i, 1);
      break;
    case 1:
      if (headers[i]) headers.push([headers[i][0], chance(rand, 0.5) ? headers[i][1] : randomToken(rand, 6)]);
      break;
    case 2:
      headers.push([
        chance(rand, 0.5) ? randomToken(rand, 1 + Math.floor(rand() * 8)) : 'x-fuzz',
        randomToken(rand, Math.floor(rand() * 20)),
      ]);
      break;
    case 3:
      headers.push([
        'content-length',
        pick(rand, ['-1', 'abc', '99999999999999999999', '9000000', String(bodyLength + 5), String(Math.max(0, bodyLength - 3)), ' 1']),
      ]);
      break;
    case 4:
      headers.push(['host', pick(rand, HOSTS)]);
      break;
    default:
      for (let n = 0; n < 100 + Math.floor(rand() * 300); n++) headers.push([`x-h${n}`, 'v']);
  }
}

type Mutation =
  'flip' | 'method' | 'target' | 'stale' | 'nonce' | 'signature' | 'unsigned' | 'no-length' | 'header' | 'chunked' | 'truncate' | 'extend';
const MUTATIONS: Mutation[] = [
  'flip',
  'method',
  'target',
  'target',
  'stale',
  'nonce',
  'signature',
  'unsigned',
  'no-length',
  'header',
  'header',
  'chunked',
  'truncate',
  'extend',
];

/** None for about one request in seven (the valid baseline), else one to three. */
function mutationsFor(rand: Rand): Set<Mutation> {
  const r = rand();
  const count = r < 0.15 ? 0 : r < 0.6 ? 1 : r < 0.9 ? 2 : 3;
  return new Set(Array.from({ length: count }, () => pick(rand, MUTATIONS)));
}

/** Serializes a draft; `chunked` sends the body in chunked coding (sometimes with a garbage size). */
function serialize(rand: Rand, d: Draft, m: Set<Mutation>): Buffer {
  const headers = d.headers.slice();
  let body = d.body;
  if (m.has('chunked')) {
    headers.push(['transfer-encoding', 'chunked']);
    const size = chance(rand, 0.6) ? d.body.length.toString(16) : pick(rand, ['zz', '-1', 'ffffffffffffffffff', '1']);
    body = Buffer.concat([Buffer.from(`${size}\r\n`), d.body, Buffer.from('\r\n0\r\n\r\n')]);
  }
  if (m.has('truncate')) body = body.subarray(0, Math.floor(rand() * body.length));
  if (m.has('extend')) body = Buffer.concat([body, randomBytes(rand, 1 + Math.floor(rand() * 300))]);
  const head = `${d.method} ${d.target} HTTP/1.1\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

describe('fuzzing a real nya validator process', () => {
  let nya: NyaProcess;
  let port: number;
  let dataDir: string;
  const miners: SimMiner[] = [];
  let task: Task | null = null;
  let bundle: Buffer | null = null;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'nya-fuzz-'));
    const shard = resolve(ROOT, 'dist/fineweb/sample-000.parquet');
    await run(process.execPath, [resolve(ROOT, 'bin/nya.cjs'), 'validator', 'ingest', shard, '--data-dir', dataDir, '--allow-demo'], {
      cwd: ROOT,
    });
    // Served variants: the demo's files without its marker (a demo folder is accepted, never
    // served), and a second one with a longer weights file (the model hash covers its size, not its bytes).
    const served = join(dataDir, 'served');
    cpSync(resolve(ROOT, 'dist/models/demo'), served, { recursive: true });
    rmSync(join(served, 'nya-demo-model.json'));
    cpSync(resolve(ROOT, 'assets/tokenizer/mistral-v3/tokenizer.json'), join(served, 'tokenizer.json'));
    const copy = join(dataDir, 'demo-copy');
    cpSync(served, copy, { recursive: true });
    appendFileSync(join(copy, 'model.onnx_data'), Buffer.alloc(16));
    nya = new NyaProcess([
      'validator',
      '--port',
      '0',
      '--data-dir',
      dataDir,
      '--variant',
      `served=${served}`,
      '--variant',
      `demo-copy=${copy}`,
      '--model-source',
      'demo-copy=https://mirror.example/demo-copy/',
      '--serve-mib-per-s',
      '100',
      '--allow-demo',
      '--check-threads',
      '1',
      '--upload-deadline-s',
      '3',
    ]);
    const [, url] = (await nya.waitFor(/listening on (http:\/\/\S+)/))!;
    port = portOf(url!);
    for (let i = 0; i < 4; i++) miners.push(SimMiner.fromSeed(url!, 900 + i));
    const lease = await miners[0]!.lease<{ kind: string; task?: Task }>({ maxTokens: 2000 });
    task = lease.body.task ?? null;
    bundle = task ? Buffer.from(bundleOf(honestLabels(task, 1))) : null;
  });

  afterAll(async () => {
    await nya?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  function draft(rand: Rand): Draft {
    const miner = pick(rand, miners);
    const kind = Math.floor(rand() * 12);
    const json = (v: unknown) => Buffer.from(JSON.stringify(v));
    const base = (method: string, target: string, body: Buffer, signed: boolean, type?: string): Draft => ({
      method,
      target,
      headers: [['host', '127.0.0.1'], ...(type ? ([['content-type', type]] as [string, string][]) : [])],
      body,
      signed,
    });
    switch (kind) {
      case 0:
        return base('GET', API.health, Buffer.alloc(0), false);
      case 1:
        return base('GET', `${API.leaderboard}?page=2&pageSize=10&gpuClass=x&address=${miner.address}`, Buffer.alloc(0), false);
      case 2:
        return base('GET', API.weights, Buffer.alloc(0), false);
      case 3:
        return base('POST', API.lease, json({ client: 'fuzz/1', maxTokens: 500 }), true, 'application/json');
      case 4:
        return base('GET', pick(rand, [API.me, `${API.ledger}?limit=5`, API.history]), Buffer.alloc(0), true);
      case 5:
        return base('POST', API.payoutChallenge, Buffer.alloc(0), true);
      case 6:
        return base(
          'POST',
          API.payoutLink,
          json({ payoutAddress: miner.address, challengeId: 'x', signature: '0x00' }),
          true,
          'application/json',
        );
      case 7:
        return base(pick(rand, ['GET', 'HEAD']), API.model, Buffer.alloc(0), false);
      case 8: {
        const variant = pick(rand, ['served', 'demo-copy']);
        const weights = chance(rand, 0.3);
        const target = chance(rand, 0.2)
          ? pick(rand, TRAVERSALS)
          : API.modelFile(variant, weights ? 'model.onnx_data' : pick(rand, SMALL_MODEL_FILES));
        const d = base(pick(rand, ['GET', 'GET', 'HEAD']), target, Buffer.alloc(0), false);
        if (weights || chance(rand, 0.5))
          d.headers.push(['range', weights ? pick(rand, ['bytes=0-4095', 'bytes=-100']) : pick(rand, RANGES)]);
        if (chance(rand, 0.3)) d.headers.push([pick(rand, ['if-none-match', 'if-range']), pick(rand, ENTITY_TAGS)]);
        return d;
      }
      default: {
        const taskId = task && chance(rand, 0.7) ? task.taskId : `t-${Math.floor(rand() * 1e6)}`;
        const body = bundle && chance(rand, 0.5) ? Buffer.from(bundle) : randomBytes(rand, Math.floor(rand() * 2000));
        return base('POST', API.result(taskId), body, true, SOFT_LABELS_CONTENT_TYPE);
      }
    }
  }

  function mutate(rand: Rand, d: Draft): Buffer {
    const m = mutationsFor(rand);
    // A flip before signing reaches the bundle decoder and the checks with a valid signature.
    if (m.has('flip') && d.body.length > 0) {
      const at = Math.floor(rand() * d.body.length);
      d.body[at] = d.body[at]! ^ (1 + Math.floor(rand() * 255));
    }
    if (m.has('method')) d.method = pick(rand, METHODS);
    if (m.has('target')) d.target = mutateTarget(rand, d.target);
    if (d.signed && !m.has('unsigned')) {
      const sig = signatureHeaders(pick(rand, miners), d.method, d.target, d.body, Date.now(), !m.has('signature') || chance(rand, 0.3));
      if (m.has('stale')) sig[HEADER_TIMESTAMP] = String(Date.now() - 10 * 60_000);
      if (m.has('nonce')) sig[HEADER_NONCE] = pick(rand, ['0'.repeat(32), 'zz', '']);
      if (m.has('signature') && chance(rand, 0.5)) sig[HEADER_SIGNATURE] = `0x${randomToken(rand, 8)}`;
      d.headers.push(...Object.entries(sig));
    }
    if (!m.has('no-length') && !m.has('chunked')) d.headers.push(['content-length', String(d.body.length)]);
    if (m.has('header')) mutateHeaders(rand, d.headers, d.body.length);
    return serialize(rand, d, m);
  }

  it(`survives ${REQUESTS} malformed requests without exiting, wedging or a 5xx (seed ${SEED})`, async () => {
    const rand = mulberry32(SEED);
    const requests = Array.from({ length: REQUESTS }, () => mutate(rand, draft(rand)));
    const failures: string[] = [];
    const statusCounts = new Map<number | 'none', number>();
    let next = 0;
    await Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        while (next < requests.length) {
          const bytes = requests[next++]!;
          const answer = await rawExchange(port, bytes, { waitMs: 10_000, endAfterMs: 200 });
          for (const s of answer.statuses.length ? answer.statuses : ['none' as const]) statusCounts.set(s, (statusCounts.get(s) ?? 0) + 1);
          if (answer.timedOut || answer.statuses.some((s) => s >= 500)) {
            failures.push(
              `${answer.timedOut ? 'wedged' : answer.statuses.join(',')} for ${JSON.stringify(bytes.subarray(0, 300).toString('latin1'))}: ${answer.raw.slice(0, 300)}`,
            );
          }
        }
      }),
    );
    expect(nya.child.exitCode, nya.stderr.slice(-2000)).toBeNull();
    expect(failures.slice(0, 10)).toEqual([]);
    const health = await rawExchange(port, 'GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    expect(health.statuses).toEqual([200]);
    // Something got through to the handlers: not everything was refused by the parser.
    const handled = [200, 401, 404, 405, 409, 413, 415, 429].filter((s) => statusCounts.has(s));
    expect(handled.length, JSON.stringify([...statusCounts])).toBeGreaterThanOrEqual(6);
    // The model files' own answers were reached too: parts, and ranges refused.
    expect(
      [206, 416].filter((s) => statusCounts.has(s)),
      JSON.stringify([...statusCounts]),
    ).toEqual([206, 416]);
    expect(nya.stderr).not.toMatch(/ failed: /);
  }, 120_000);
});
