import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_K, DEFAULT_SEQ_LEN } from '../../src-shared/protocol';
import { mulberry32 } from '../../src-shared/prng';
import { tokenIdsChecksum } from '../../src-node/soft-labels';
import { errorMessage } from '../../src-node/log';
import { numberOption, optionsOrUsage } from './args';
import { BundleFactory } from './sim/bundle-factory';
import { benchDocuments } from './sim/bundler-thread';
import { fakeTokenizer } from './sim/fake-teacher';
import { compareResults } from '../verify/agreement';
import { sampleRows } from '../verify/record-rows';
import { parseBundle, runCheckJob } from '../verify/result-checks';
import type { ExpectedTask } from '../verify/structural';

/**
 * `nya bench checks [--json] [--docs-per-task 64] [--rounds 20]`: the CPU cost of one
 * submission's checks, the jobs a check thread runs (`verify/result-checks.ts`), on full-size
 * bundles in this thread: a first result (CRC of every record, the structural check on sampled
 * rows, writing the kept body), a second (the same, plus reading its replica's file back with its
 * CRCs and the agreement check) and the agreement check alone. Measured as process CPU time, the
 * best of `--rounds` rounds: on a shared machine wall time mostly measures the neighbours, and the
 * validator bench already measures the whole service. The last line of --json output is one JSON
 * object.
 */
const MODEL_HASH = 'b'.repeat(64);

interface Args {
  json: boolean;
  docsPerTask: number;
  rounds: number;
}

function parseArgs(argv: string[]): Args {
  return {
    json: argv.includes('--json'),
    docsPerTask: Math.max(1, Math.floor(numberOption(argv, '--docs-per-task', 64))),
    rounds: Math.max(1, Math.floor(numberOption(argv, '--rounds', 20))),
  };
}

/** CPU milliseconds per call of `fn`: the best round of `perRound` calls, after a warm-up. */
function cpuMsPerCall(fn: () => void, rounds: number, perRound: number): number {
  for (let i = 0; i < 3; i++) fn();
  let best = Infinity;
  for (let round = 0; round < rounds; round++) {
    const start = process.cpuUsage();
    for (let i = 0; i < perRound; i++) fn();
    const used = process.cpuUsage(start);
    best = Math.min(best, (used.user + used.system) / 1000 / perRound);
  }
  return best;
}

export async function run(argv: string[]): Promise<number> {
  const args = optionsOrUsage('checks', () => parseArgs(argv));
  if (!args) return 2;
  const tokenizer = fakeTokenizer();
  const documents = benchDocuments(args.docsPerTask, 0);
  const task = { taskId: 'bench-checks-0000000000000', k: DEFAULT_K, seqLen: DEFAULT_SEQ_LEN, documents };
  // Two "GPUs" with their own jitter, as two honest miners of one task.
  const first = new BundleFactory(tokenizer, MODEL_HASH, 1).bundle(task).body;
  const second = new BundleFactory(tokenizer, MODEL_HASH, 2).bundle(task).body;
  const expected: ExpectedTask = {
    taskId: task.taskId,
    k: task.k,
    modelHash: MODEL_HASH,
    vocabSize: tokenizer.vocabSize,
    documents: documents.map((d) => {
      const ids = tokenizer.encode(d.text, task.seqLen);
      return { docId: d.docId, tokens: ids.length, tokenIdsChecksum: tokenIdsChecksum(ids) };
    }),
  };
  const positions = expected.documents.map((d) => d.tokens);
  const random = mulberry32(1);
  const dir = mkdtempSync(join(tmpdir(), 'nya-bench-checks-'));
  try {
    const kept = join(dir, 'first.nysb');
    const firstJob = () => {
      const answer = runCheckJob({
        kind: 'structure',
        body: first,
        task: expected,
        rows: sampleRows(positions, random),
        stageTo: kept,
        peers: [],
      });
      if (answer.verdict !== 'ok' || !answer.staged) throw new Error(`the first result did not pass: ${JSON.stringify(answer)}`);
    };
    const secondJob = () => {
      const answer = runCheckJob({
        kind: 'structure',
        body: second,
        task: expected,
        rows: sampleRows(positions, random),
        stageTo: null,
        peers: [{ key: 'first', source: { path: kept }, rows: sampleRows(positions, random) }],
      });
      if (answer.verdict !== 'ok' || !answer.agreement.first?.agree)
        throw new Error(`the second result did not pass: ${JSON.stringify(answer)}`);
    };
    const a = parseBundle(first);
    const b = parseBundle(second);
    const compareOnly = () => {
      const verdict = compareResults(a, b, sampleRows(positions, random));
      if (!verdict.agree) throw new Error(`the two results disagree: ${verdict.reason}`);
    };
    // About 50 ms of work per round whatever the task size.
    const perRound = Math.max(1, Math.round(256 / args.docsPerTask));
    const result = {
      suite: 'checks',
      docs_per_task: args.docsPerTask,
      body_bytes: first.length,
      first_ms: Number(cpuMsPerCall(firstJob, args.rounds, perRound).toFixed(2)),
      second_ms: Number(cpuMsPerCall(secondJob, args.rounds, perRound).toFixed(2)),
      compare_ms: Number(cpuMsPerCall(compareOnly, args.rounds, perRound).toFixed(2)),
      rounds: args.rounds,
    };
    if (args.json) console.log(JSON.stringify(result));
    else for (const [key, v] of Object.entries(result)) console.log(`${key.padEnd(16)} ${v}`);
    return 0;
  } catch (error) {
    console.error(`nya bench checks: ${errorMessage(error)}`);
    return 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
