import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { workerData } from 'node:worker_threads';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SEQ_LEN } from '../../src-shared/protocol';
import { numberOption, optionValue, optionsOrUsage } from './args';
import { defaultCheckThreads, startValidator } from '../index';
import { benchMinerSeed, loopDelayP99Ms, runBenchClient, type BenchClientConfig, type BenchClientReport } from './sim/bench-client';
import { benchDocuments, runBundlerThread } from './sim/bundler-thread';
import { fakeRecomputer, fakeTokenizer } from './sim/fake-teacher';
import { SimMiner } from './sim/sim-miner';

/**
 * `nya bench validator [--json] [--miners 64] [--store sqlite|postgres] [--seconds 15]
 *   [--docs-per-task 16] [--compute-ms 0] [--redundancy 2] [--check-threads N] [--database-url URL] [--audit-share S]`
 *
 * The validator runs in this process; the simulated miners run in a forked child process (the
 * other core), so what is measured is the validator: HTTP, signature and nonce checks, CRC of every
 * byte, structural and agreement checks on sampled rows, adaptive replication and the
 * transactional store. The last line of --json output is one JSON object.
 */
const MODEL_HASH = 'b'.repeat(64);
const CLIENT_FLAG = '--bench-client-process';
const BUNDLER_FLAG = '--bench-bundler-thread';

interface Args {
  json: boolean;
  miners: number;
  store: 'sqlite' | 'postgres';
  seconds: number;
  docsPerTask: number;
  computeMs: number;
  redundancy: number;
  checkThreads: number;
  databaseUrl: string | null;
  /** Audits by an in-process fake teacher (0: none, as a validator without --teacher). */
  auditShare: number;
}

function parseArgs(argv: string[]): Args {
  const value = (name: string) => optionValue(argv, name);
  const int = (name: string, fallback: number) => numberOption(argv, name, fallback);
  const store = value('--store') ?? 'sqlite';
  if (store !== 'sqlite' && store !== 'postgres') throw new Error(`--store is sqlite or postgres, not '${store}'.`);
  const databaseUrl = value('--database-url') ?? process.env.NYA_TEST_DATABASE_URL ?? null;
  if (store === 'postgres' && !databaseUrl) {
    throw new Error(
      '--store postgres needs --database-url or NYA_TEST_DATABASE_URL (scripts/ci-postgres.sh -- nya bench validator --store postgres).',
    );
  }
  return {
    json: argv.includes('--json'),
    miners: Math.max(1, int('--miners', 64)),
    store,
    seconds: int('--seconds', 15),
    docsPerTask: Math.max(1, int('--docs-per-task', 16)),
    computeMs: int('--compute-ms', 0),
    redundancy: Math.max(1, int('--redundancy', 2)),
    checkThreads: Math.floor(int('--check-threads', defaultCheckThreads())),
    databaseUrl: store === 'postgres' ? databaseUrl : null,
    auditShare: numberOption(argv, '--audit-share', 0),
  };
}

/** A CPU profile of the validator over the measured window only (NYA_BENCH_PROFILE=file). */
function windowProfiler(path: string): { start(): void; stop(): Promise<void> } {
  const session = new Session();
  session.connect();
  return {
    start: () => {
      session.post('Profiler.enable', () => session.post('Profiler.start'));
    },
    stop: () =>
      new Promise((resolve) =>
        session.post('Profiler.stop', (error, result) => {
          if (!error) writeFileSync(path, JSON.stringify(result.profile));
          session.disconnect();
          resolve();
        }),
      ),
  };
}

function percentile(values: number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

async function runClientProcess(): Promise<number> {
  const cfg = await new Promise<BenchClientConfig>((resolve) => process.once('message', (m) => resolve(m as BenchClientConfig)));
  const report = await runBenchClient(
    cfg,
    () => process.send!({ type: 'measuring' }),
    () => process.send!({ type: 'measured' }),
  );
  await new Promise<void>((resolve) => process.send!({ type: 'report', report }, () => resolve()));
  return 0;
}

export async function run(argv: string[]): Promise<number> {
  if (argv.includes(BUNDLER_FLAG)) {
    runBundlerThread((workerData as { modelHash: string }).modelHash);
    return new Promise<number>(() => undefined); // Serves until the simulators terminate the thread.
  }
  if (argv.includes(CLIENT_FLAG)) return runClientProcess();
  const args = optionsOrUsage('validator', () => parseArgs(argv));
  if (!args) return 2;
  const say = (line: string) => (args.json ? console.error(line) : console.log(line));
  const dataDir = mkdtempSync(join(tmpdir(), 'nya-bench-validator-'));
  let child: ChildProcess | null = null;
  // Interrupted (Ctrl-C, a kill), the run still removes its data folder: a minute of 64-document
  // tasks leaves gigabytes of result files in it.
  const abandon = (signal: NodeJS.Signals) => {
    child?.kill();
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', abandon);
  process.once('SIGTERM', abandon);
  // Submit time inside the validator (headers in to last byte out), beside the miners' round trip:
  // the difference is time spent waiting for a CPU, the simulators' own included.
  const serverSubmitMs: number[] = [];
  let measuring = false;
  const validator = await startValidator({
    port: 0,
    dataDir,
    databaseUrl: args.databaseUrl,
    modelHash: MODEL_HASH,
    redundancy: args.redundancy,
    // The simulated miners are fresh keys from one address, started together: under the default
    // replica rules none may check another and nothing would validate. The bench measures the
    // validator's throughput, not who checks whom, so its keys are seeded as established and the
    // first-seen window is off (docs/PERFORMANCE.md).
    establishedKeys: Array.from({ length: args.miners }, (_, i) => SimMiner.fromSeed('http://127.0.0.1:1', benchMinerSeed(i)).address),
    replicaRules: { firstSeenApartMs: 0 },
    tokenizer: async () => fakeTokenizer(),
    // The fake teacher labels on the validator's own event loop, where a real one runs in its own
    // process: audits measured this way cost the event loop more than they would, not less.
    recomputers: args.auditShare > 0 ? [fakeRecomputer(MODEL_HASH, fakeTokenizer())] : [],
    audits: { share: args.auditShare },
    checkThreads: args.checkThreads,
    observeRequest: (route, ms) => {
      if (measuring && route === 'result') serverSubmitMs.push(ms);
    },
  });
  try {
    // Enough queued documents for the whole run at a generous rate, ingested before timing.
    const docs = Math.max(4000, Math.min(60_000, Math.ceil(args.seconds + 10) * 1500));
    say(`bench validator: ingesting ${docs} documents (${args.store})...`);
    for (let offset = 0; offset < docs; offset += 2000) await validator.addDocuments(benchDocuments(Math.min(2000, docs - offset), offset));
    const cfg: BenchClientConfig = {
      url: validator.url,
      miners: args.miners,
      modelHash: MODEL_HASH,
      tokensPerTask: args.docsPerTask * DEFAULT_SEQ_LEN,
      computeMs: args.computeMs,
      warmupMs: 2000,
      seconds: args.seconds,
      bundlerScript: process.argv[1]!,
      bundlerArgv: ['bench', 'validator', BUNDLER_FLAG],
    };
    say(
      `bench validator: ${args.miners} miners, ${args.docsPerTask} × ${DEFAULT_SEQ_LEN}-token documents per task, k 16, redundancy ${args.redundancy}, ${args.seconds} s`,
    );
    const sum = () => validator.store.totalValidatedTokens();
    const client = fork(process.argv[1]!, ['bench', 'validator', CLIENT_FLAG], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child = client;
    const profiler = process.env.NYA_BENCH_PROFILE ? windowProfiler(process.env.NYA_BENCH_PROFILE) : null;
    // How late the validator's event loop ran its callbacks in the window: every request waits on it.
    const loopDelay = monitorEventLoopDelay({ resolution: 1 });
    let startTokens = 0;
    let endTokens = 0;
    let startAt = 0;
    let elapsedS = args.seconds;
    const report = await new Promise<BenchClientReport>((resolve, reject) => {
      client.on('message', (m: { type: string; report?: BenchClientReport }) => {
        if (m.type === 'measuring') {
          measuring = true;
          startAt = performance.now();
          loopDelay.enable();
          profiler?.start();
          void sum().then((v) => (startTokens = v));
        } else if (m.type === 'measured') {
          elapsedS = (performance.now() - startAt) / 1000;
          measuring = false;
          loopDelay.disable();
          void sum().then((v) => (endTokens = v));
          void profiler?.stop();
        } else if (m.type === 'report') resolve(m.report!);
      });
      client.on('exit', (code) => reject(new Error(`the simulated miners exited with ${code}`)));
      client.send(cfg);
    });
    const validated = endTokens - startTokens;
    client.kill();
    const result = {
      suite: 'validator',
      store: args.store,
      miners: args.miners,
      seconds: Number(elapsedS.toFixed(2)),
      docs_per_task: args.docsPerTask,
      redundancy: args.redundancy,
      submissions_per_s: Number((report.submissions / args.seconds).toFixed(1)),
      submitted_tokens_per_s: Math.round(report.submittedTokens / args.seconds),
      validated_tokens_per_s: Math.round(validated / elapsedS),
      p50_ms: Number(percentile(report.submitLatenciesMs, 0.5).toFixed(1)),
      p99_ms: Number(percentile(report.submitLatenciesMs, 0.99).toFixed(1)),
      lease_p99_ms: Number(percentile(report.leaseLatenciesMs, 0.99).toFixed(1)),
      server_p50_ms: Number(percentile(serverSubmitMs, 0.5).toFixed(1)),
      server_p99_ms: Number(percentile(serverSubmitMs, 0.99).toFixed(1)),
      server_loop_delay_p99_ms: Number(loopDelayP99Ms(loopDelay).toFixed(1)),
      client_loop_delay_p99_ms: Number(report.loopDelayP99Ms.toFixed(1)),
      rejected: report.rejected,
      errors: report.errors,
      no_work: report.noWork,
      compute_ms: args.computeMs,
      check_threads: args.checkThreads,
      ...(args.auditShare > 0 ? { audit_share: args.auditShare, audits: validator.audits() } : {}),
    };
    if (args.json) console.log(JSON.stringify(result));
    else for (const [key, v] of Object.entries(result)) console.log(`${key.padEnd(24)} ${v}`);
    return 0;
  } finally {
    process.off('SIGINT', abandon);
    process.off('SIGTERM', abandon);
    try {
      await validator.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
}
