import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { afterAll, describe, expect, it } from 'vitest';
import { API, type LeaderboardResponse, type ModelResponse } from '../../src-shared/protocol';
import type { StateSnapshot } from '../../src-shared/state';
import { eventually, fetchState, NyaProcess, ROOT } from '../browser/nya-process';

const PASS = 'correct horse battery staple';
const NAME = 'e2e-mistral';
const FP16 = `${NAME}-fp16`;
const INT4 = `${NAME}-int4`;
/** What a 24 GB card and a 6 GB card report; the variants ask for 16 GiB and 5 GiB. */
const BIG_GPU_MIB = 24576;
const SMALL_GPU_MIB = 6144;

/** A reverse proxy in front of the validator that records what it forwards: how the int4 miner asked for its files. */
async function recordingProxy(upstream: string) {
  const target = new URL(upstream);
  const requests: { path: string; range: string | null; status: number }[] = [];
  const server: Server = createServer((req, res) => {
    const upstreamReq = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (upstreamRes) => {
        requests.push({ path: req.url ?? '', range: req.headers.range ?? null, status: upstreamRes.statusCode ?? 0 });
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        upstreamRes.pipe(res);
      },
    );
    upstreamReq.on('error', () => res.destroy());
    req.pipe(upstreamReq);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

/**
 * A whole network on one machine, as docs/MODELS.md tells an operator to start it: a generated
 * Mistral-architecture test teacher (not the demo: other shapes and weights, Optimum layout with
 * external data) in fp16 and int4, `nya validator --model FP16 --model INT4` with a `--teacher` per
 * variant (the validator re-computes new keys' work, so three fresh miners earn on one machine
 * without anyone vouching for them, and an int4 task, which no second int4 miner could check, is
 * checked by the int4 teacher), then three `nya mine --validator URL` with fresh data folders and
 * no model flag. Two are told their GPU has 24 GB and take fp16; one is told 6 GB and takes int4,
 * is killed (its process group, SIGKILL) halfway through the weights, and resumes on restart.
 */
describe('a test network: nya validator with fp16 and int4 teachers, three nya mine choosing by GPU memory', () => {
  const root = mkdtempSync(join(tmpdir(), 'nya-test-network-'));
  const validatorDir = join(root, 'validator');
  const running: NyaProcess[] = [];
  let proxy: Awaited<ReturnType<typeof recordingProxy>> | null = null;

  afterAll(async () => {
    for (const p of running) await p.stop('SIGKILL', 1000);
    await proxy?.close();
    rmSync(root, { recursive: true, force: true });
  }, 60_000);

  const start = (args: string[]) => {
    const p = new NyaProcess(args, { NYA_WALLET_PASSPHRASE: PASS }, { group: true });
    running.push(p);
    return p;
  };
  const run = async (args: string[]) => {
    const p = start(args);
    const code = await new Promise<number | null>((done) => p.child.once('exit', done));
    expect(code, `nya ${args.join(' ')}:\n${p.stdout}\n${p.stderr}`).toBe(0);
    return p.stdout;
  };
  const mine = async (dataDir: string, validatorUrl: string, gpuMemoryMiB: number) => {
    const p = start([
      'mine',
      '--dashboard-port',
      '0',
      '--data-dir',
      dataDir,
      '--validator',
      validatorUrl,
      '--gpu-memory-mib',
      String(gpuMemoryMiB),
    ]);
    const m = await p.waitFor(/^dashboard: (http:\/\/127\.0\.0\.1:\d+)\/\?token=(\S+)$/m);
    return { p, state: (): Promise<StateSnapshot> => fetchState(m[1]!, m[2]!) };
  };
  const newMiner = async (name: string) => {
    const dataDir = join(root, name);
    const address = (await run(['wallet', 'create', '--data-dir', dataDir])).match(/5[1-9A-HJ-NP-Za-km-z]{47}/)?.[0];
    expect(address).toBeTruthy();
    return { dataDir, address: address! };
  };

  it('hands each miner the variant its GPU fits, resumes a killed download, and validates each variant only against itself', async () => {
    // The test teacher, written by the bundled generator as an operator would run it.
    const models = join(root, 'models');
    const generated = await promisify(execFile)(
      process.execPath,
      [
        resolve(ROOT, 'dist/tools/gen-test-model.cjs'),
        ...['--out', models, '--name', NAME, '--seed', '42', '--threads', '1'],
        ...['--hidden', '64', '--layers', '3', '--heads', '4', '--kv-heads', '1', '--intermediate', '160'],
        ...['--min-vram-mib-fp16', '16384', '--min-vram-mib-int4', '5120'],
      ],
      { cwd: ROOT },
    );
    expect(JSON.parse(generated.stdout.trim().split('\n').pop()!).models.map((m: { variantId: string }) => m.variantId)).toEqual([
      FP16,
      INT4,
    ]);
    const variantFlags = ['--model', join(models, 'fp16'), '--model', join(models, 'int4')];
    expect(
      await run(['validator', 'ingest', resolve(ROOT, 'dist/fineweb/sample-000.parquet'), '--data-dir', validatorDir, ...variantFlags]),
    ).toMatch(/\d+ new documents queued/);

    const validator = start([
      ...['validator', '--port', '0', '--data-dir', validatorDir, ...variantFlags],
      ...['--teacher', join(models, 'fp16'), '--teacher', join(models, 'int4')],
      // Slow enough that a miner can be caught halfway through the weights.
      ...['--first-seen-apart-minutes', '0', '--serve-mib-per-s', '2', '--check-threads', '1'],
    ]);
    const validatorUrl = (await validator.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/))[1]!;
    const catalog = (await (await fetch(`${validatorUrl}${API.model}`)).json()) as ModelResponse;
    expect(catalog.variants.map((v) => [v.id, v.minVramMiB])).toEqual([
      [FP16, 16384],
      [INT4, 5120],
    ]);
    const hashOf = new Map(catalog.variants.map((v) => [v.id, v.modelHash]));
    const int4Weights = catalog.variants[1]!.files.find((f) => f.path === 'model.onnx_data')!;

    const [a, b, c] = [await newMiner('miner-a'), await newMiner('miner-b'), await newMiner('miner-int4')];
    const variantOf = new Map([
      [a.address, FP16],
      [b.address, FP16],
      [c.address, INT4],
    ]);
    proxy = await recordingProxy(validatorUrl);
    const minerA = await mine(a.dataDir, validatorUrl, BIG_GPU_MIB);
    const minerB = await mine(b.dataDir, validatorUrl, BIG_GPU_MIB);
    const first = await mine(c.dataDir, proxy.url, SMALL_GPU_MIB);

    // Halfway through the int4 weights: kill the miner's whole process group.
    const part = join(c.dataDir, 'models', INT4, 'model.onnx_data.part');
    await eventually(async () => {
      const s = await first.state();
      const size = statSync(part, { throwIfNoEntry: false })?.size ?? 0;
      return (
        s.modelDownload.variantId === INT4 && s.modelDownload.file === 'model.onnx_data' && size >= 256 * 1024 && size < int4Weights.bytes
      );
    }, 'the int4 miner halfway through its weights');
    await first.p.stop('SIGKILL');
    const offset = statSync(part).size;
    expect(offset).toBeLessThan(int4Weights.bytes);

    const minerC = await mine(c.dataDir, proxy.url, SMALL_GPU_MIB);
    const ready = await Promise.all(
      [minerA, minerB, minerC].map((m) =>
        eventually(async () => ((s) => s.teacher.state === 'ready' && s)(await m.state()), 'a teacher loaded'),
      ),
    );
    expect(ready.map((s) => s.settings.modelDir)).toEqual([
      join(a.dataDir, 'models', FP16),
      join(b.dataDir, 'models', FP16),
      join(c.dataDir, 'models', INT4),
    ]);
    const weightsPath = API.modelFile(INT4, 'model.onnx_data');
    expect(proxy.requests.filter((r) => r.path === weightsPath).map((r) => [r.range, r.status])).toEqual([
      [null, 200],
      [`bytes=${offset}-`, 206],
    ]);
    expect(proxy.requests.some((r) => r.path.startsWith(API.modelFile(FP16, '')))).toBe(false);

    // All three earn validated tokens, on their dashboards and on the validator's leaderboard.
    await eventually(
      async () => (await Promise.all([minerA, minerB, minerC].map((m) => m.state()))).every((s) => s.tokens.validated > 0),
      'validated tokens on all three miners',
    );
    const board = (await (await fetch(`${validatorUrl}${API.leaderboard}?pageSize=10`)).json()) as LeaderboardResponse;
    for (const address of variantOf.keys()) expect(board.rows.find((r) => r.address === address)?.validatedTokens).toBeGreaterThan(0);

    // Each task belongs to one variant, and only miners of that variant submitted to it.
    const db = new Database(join(validatorDir, 'validator.sqlite'), { readonly: true, fileMustExist: true });
    let rows: { task_id: string; miner: string; status: string; variant: string; model_hash: string }[];
    try {
      rows = db
        .prepare(
          `SELECT r.task_id, r.miner, r.status, v.variant, t.model_hash
             FROM results r JOIN tasks t ON t.task_id = r.task_id JOIN task_variants v ON v.task_id = r.task_id`,
        )
        .all() as typeof rows;
    } finally {
      db.close();
    }
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(row.variant, `task ${row.task_id}, miner ${row.miner}`).toBe(variantOf.get(row.miner));
      expect(row.model_hash).toBe(hashOf.get(row.variant));
    }
    expect(rows.some((r) => r.miner === c.address && r.status === 'validated')).toBe(true);

    // The data set says which variant produced each row; --variant exports one.
    const exported = async (out: string, only: string[] = []) => {
      await run(['validator', 'export', '--out', out, '--data-dir', validatorDir, ...variantFlags, ...only]);
      const shards = readdirSync(out, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.parquet'));
      const variants = await Promise.all(
        shards.map(async (f) =>
          (await parquetReadObjects({ file: await asyncBufferFromFile(join(out, f)), columns: ['variant'] })).map(
            (r) => r.variant as string,
          ),
        ),
      );
      return variants.flat();
    };
    expect(new Set(await exported(join(root, 'export-all')))).toEqual(new Set([FP16, INT4]));
    const int4Rows = await exported(join(root, 'export-int4'), ['--variant', INT4]);
    expect(int4Rows.length).toBeGreaterThan(0);
    expect(new Set(int4Rows)).toEqual(new Set([INT4]));
  }, 420_000);
});
