import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ExecutionProviderChoice } from '../../src-shared/state';
import { errorMessage } from '../../src-node/log';
import { distPath } from '../../src-node/app-paths';
import type { TeacherInfo } from '../miner/ports';
import { TeacherHost } from './teacher-host';
import { USAGE_INTERVAL_MS } from './worker-protocol';

/**
 * `nya bench teacher [--json] [--tasks N] [--docs N] [--model DIR] [--k K] [--batch-tokens N]
 *   [--ep auto|cpu|cuda|dml] [--threads N]`
 *
 * The whole pipeline as the miner drives it: the task crosses to the worker process, which
 * tokenizes, packs, runs the top-k graph, cuts rows and encodes the codec records; the records
 * cross back to this process. `overhead_ratio` is the wall time of the measured tasks over the
 * sum of their forward passes (1.0 would be a device that never waits). A warm-up task runs
 * first and is not counted. The last line of --json output is one JSON object.
 */
const USAGE = 'usage: nya bench teacher [--json] [--tasks N] [--docs N] [--model DIR] [--k K] [--batch-tokens N] [--ep EP] [--threads N]';

const WORDS = (
  'the of and to in a is that for it as was with be by on not he this are or his from at which but have an they you ' +
  'were her one all we can their has there been if more when will would who so no out up into them about time only ' +
  'new some could these two may first then do any like my now over such our man me even most made after also did many ' +
  'before must through years where much your way well down should because each just those people how too little state ' +
  'good very make world still own see men work long get here between both life being under never day same another know ' +
  'while last might us great old year off come since against go came right used take three mining model teacher tokens'
).split(' ');

/** Deterministic prose-like documents whose lengths spread over 64..seqLen tokens, like FineWeb's. */
export function benchDocuments(count: number, seed: number): { docId: string; text: string }[] {
  let x = seed >>> 0;
  const next = () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 4294967296;
  };
  return Array.from({ length: count }, (_, i) => {
    const words = 48 + Math.floor(next() * 900);
    const parts: string[] = [];
    for (let w = 0; w < words; w++) {
      parts.push(WORDS[Math.floor(next() * WORDS.length)]!);
      if (next() < 0.07) parts.push(next() < 0.5 ? '.' : ',');
    }
    return { docId: `bench-${seed}-${i}`, text: parts.join(' ').replace(/ ([.,])/g, '$1') };
  });
}

interface Args {
  json: boolean;
  tasks: number;
  docs: number;
  modelDir: string;
  k: number;
  batchTokens: number;
  ep: ExecutionProviderChoice;
  threads: number | undefined;
}

function parse(argv: string[]): Args {
  const { values } = parseArgs({
    args: argv,
    options: {
      json: { type: 'boolean', default: false },
      tasks: { type: 'string', default: '4' },
      docs: { type: 'string', default: '16' },
      model: { type: 'string' },
      k: { type: 'string', default: '16' },
      'batch-tokens': { type: 'string', default: '4096' },
      ep: { type: 'string', default: 'auto' },
      threads: { type: 'string' },
    },
    strict: true,
  });
  const int = (name: string, raw: string) => {
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < 1) throw new Error(`--${name} must be a positive whole number, got '${raw}'`);
    return n;
  };
  return {
    json: values.json,
    tasks: int('tasks', values.tasks),
    docs: int('docs', values.docs),
    modelDir: values.model ?? distPath('models', 'demo'),
    k: int('k', values.k),
    batchTokens: int('batch-tokens', values['batch-tokens']),
    ep: ExecutionProviderChoice.parse(values.ep),
    threads: values.threads === undefined ? undefined : int('threads', values.threads),
  };
}

interface Totals {
  wallMs: number;
  workerWallMs: number;
  forwardMs: number;
  batches: number;
  positions: number;
  paddedPositions: number;
  hostBytes: number;
  encodedBytes: number;
}

/** Labels `args.tasks` tasks after one warm-up task, adding up what the worker reports. */
async function measure(host: TeacherHost, args: Args, say: (line: string) => void): Promise<Totals> {
  const task = (seed: number) => ({ taskId: `bench-${seed}`, k: args.k, seqLen: 1024, documents: benchDocuments(args.docs, seed) });
  await host.label(task(0));
  const totals: Totals = {
    wallMs: 0,
    workerWallMs: 0,
    forwardMs: 0,
    batches: 0,
    positions: 0,
    paddedPositions: 0,
    hostBytes: 0,
    encodedBytes: 0,
  };
  for (let t = 1; t <= args.tasks; t++) {
    const started = performance.now();
    const docs = await host.label(task(t));
    const wallMs = performance.now() - started;
    const stats = host.lastStats!;
    totals.wallMs += wallMs;
    totals.forwardMs += stats.forwardMs;
    totals.workerWallMs += stats.wallMs;
    totals.batches += stats.batches;
    totals.positions += stats.positions;
    totals.paddedPositions += stats.paddedPositions;
    totals.hostBytes += stats.hostBytes;
    totals.encodedBytes += docs.reduce((n, d) => n + d.encoded.length, 0);
    say(
      `task ${t}: ${stats.positions} tokens in ${stats.batches} batches, wall ${wallMs.toFixed(0)} ms (in the worker ${stats.wallMs.toFixed(0)} ms), forward ${stats.forwardMs.toFixed(0)} ms`,
    );
  }
  return totals;
}

function report(host: TeacherHost, info: TeacherInfo, args: Args, totals: Totals, loadMs: number) {
  const fullLogits = host.model!.fullLogitsBytesPerPosition;
  return {
    suite: 'teacher',
    model: info.modelName,
    demo: info.isDemo,
    execution_provider: info.executionProvider,
    tasks: args.tasks,
    docs_per_task: args.docs,
    k: args.k,
    // The budget in force: the worker caps it on the CPU.
    max_batch_tokens: host.lastStats?.maxBatchTokens ?? host.maxBatchTokens,
    tokens: totals.positions,
    tokens_per_s: round((totals.positions / totals.wallMs) * 1000),
    ms_per_forward: round(totals.forwardMs / totals.batches),
    padding_ratio: round(totals.paddedPositions / totals.positions, 4),
    host_bytes_per_position: round(totals.hostBytes / totals.positions),
    full_logits_bytes_per_position: fullLogits,
    host_fraction_of_full_logits: round(totals.hostBytes / totals.positions / fullLogits, 5),
    softlabel_bytes_per_position: round(totals.encodedBytes / totals.positions),
    overhead_ratio: round(totals.wallMs / totals.forwardMs, 4),
    /** The same inside the worker: tokenize, pack, run, encode, without the process hand-offs. */
    worker_overhead_ratio: round(totals.workerWallMs / totals.forwardMs, 4),
    load_ms: round(loadMs),
  };
}

export async function run(argv: string[]): Promise<number> {
  let args: Args;
  try {
    args = parse(argv);
  } catch (error) {
    console.error(`nya bench teacher: ${errorMessage(error)}\n${USAGE}`);
    return 2;
  }
  const cacheDir = mkdtempSync(join(tmpdir(), 'nya-bench-teacher-'));
  let workerPeakRssBytes = 0;
  const host = new TeacherHost({
    cacheDir,
    modelDir: args.modelDir,
    executionProvider: args.ep,
    maxBatchTokens: args.batchTokens,
    ...(args.threads ? { intraOpThreads: args.threads } : {}),
    onUsage: (u) => (workerPeakRssBytes = Math.max(workerPeakRssBytes, u?.maxRssBytes ?? 0)),
  });
  const say = (line: string) => (args.json ? console.error(line) : console.log(line));
  try {
    const loadStarted = performance.now();
    const info = await host.start();
    const loadMs = performance.now() - loadStarted;
    say(
      `teacher: ${info.modelName}${info.isDemo ? ' (demo)' : ''} on ${info.executionProvider} (${info.providerReason}), loaded in ${loadMs.toFixed(0)} ms`,
    );
    const r = { ...report(host, info, args, await measure(host, args, say), loadMs), worker_peak_rss_mib: 0 };
    // The worker reports its peak every 2 s: wait for the report that covers the last task.
    await new Promise((resolve) => setTimeout(resolve, USAGE_INTERVAL_MS + 500));
    r.worker_peak_rss_mib = round(workerPeakRssBytes / 1048576, 0);
    say(
      `${r.tokens_per_s} tokens/s, ${r.ms_per_forward} ms per forward, overhead ratio ${r.overhead_ratio}, ` +
        `${r.host_bytes_per_position} B/position to the host (full logits ${r.full_logits_bytes_per_position} B), ${r.softlabel_bytes_per_position} B/position encoded, ` +
        `worker peak ${r.worker_peak_rss_mib} MiB`,
    );
    if (args.json) console.log(JSON.stringify(r));
    return 0;
  } catch (error) {
    console.error(`nya bench teacher: ${errorMessage(error)}`);
    return 1;
  } finally {
    await host.dispose();
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
