import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { mulberry32 } from '../../../src-shared/prng';
import { decodeSoftLabels } from '../../../src-node/soft-labels';
import { ExecutionProviderChoice } from '../../../src-shared/state';
import { errorMessage } from '../../../src-node/log';
import { loadTokenizer } from '../../../src-node/tokenizer';
import { compareLabels, compareResults } from '../../../src-validator/verify/agreement';
import { parseRecord, sampleRows } from '../../../src-validator/verify/record-rows';
import { benchDocuments } from '../../teacher/bench';
import { labelTask } from '../../teacher/labeller';
import { TeacherSession } from '../../teacher/teacher-session';

/**
 * `nya bench agreement --model DIR [--model-b DIR] [--ep EP] [--ep-b EP] [--threads N] [--threads-b N]
 *   [--batch-tokens N] [--batch-tokens-b N] [--docs N] [--k K] [--seq-len N] [--seed N] [--json]`
 *
 * Labels the same documents with two teachers (two variants, two providers, two thread counts or
 * batch sizes of one) and puts the two results through the validator's agreement check, as it
 * would compare two replicas of one task: the verdict on the rows it samples, and the figures over
 * every position. Side B defaults to side A. The last line of --json output is one JSON object.
 */
const USAGE =
  'usage: nya bench agreement --model DIR [--model-b DIR] [--ep EP] [--ep-b EP] [--threads N] [--threads-b N] [--batch-tokens N] [--batch-tokens-b N] [--docs N] [--k K] [--seq-len N] [--seed N] [--json]';

export interface TeacherRun {
  modelDir: string;
  ep: ExecutionProviderChoice;
  threads?: number;
  batchTokens: number;
}

export interface AgreementTask {
  docs: number;
  k: number;
  seqLen: number;
  /** Documents and the validator's row sample both come from it. */
  seed: number;
}

export interface AgreementFigures {
  documents: number;
  positions: number;
  /** Position-weighted means over documents of the validator's per-document figures, every position compared. */
  meanOverlap: number;
  meanAbsLogprobDiff: number;
  meanSignedLogprobDiff: number;
  /** The worst document's. */
  p99AbsLogprobDiff: number;
  rankMissFraction: number;
  badRowFraction: number;
  /** The validator's verdict on the rows it would sample (`compareResults`). */
  agree: boolean;
  reason: string | null;
  providers: [string, string];
  modelHashes: [string, string];
}

/** One side's records, one per document, as the miner would upload them. */
async function label(run: TeacherRun, task: AgreementTask, cacheDir: string) {
  const session = await TeacherSession.load({
    modelDir: run.modelDir,
    cacheDir,
    executionProvider: run.ep,
    ...(run.threads ? { intraOpThreads: run.threads } : {}),
  });
  try {
    const tokenizer = await loadTokenizer(run.modelDir);
    const documents = benchDocuments(task.docs, task.seed);
    const labelled = await labelTask(
      session,
      tokenizer,
      { taskId: `agreement-${task.seed}`, k: task.k, seqLen: task.seqLen, documents },
      {
        maxBatchTokens: run.batchTokens,
      },
    );
    return { records: labelled.docs.map((d) => d.encoded), provider: session.executionProvider, modelHash: session.modelHash };
  } finally {
    await session.release();
  }
}

export async function measureAgreement(a: TeacherRun, b: TeacherRun, task: AgreementTask, cacheDir: string): Promise<AgreementFigures> {
  // One after the other: two 7B sessions need not fit on one card together.
  const left = await label(a, task, cacheDir);
  const right = await label(b, task, cacheDir);
  const sums = { positions: 0, overlap: 0, abs: 0, signed: 0, misses: 0, bad: 0, p99: 0 };
  left.records.forEach((record, i) => {
    const figures = compareLabels(decodeSoftLabels(record), decodeSoftLabels(right.records[i]!));
    const n = figures.positions;
    sums.positions += n;
    sums.overlap += n * figures.meanOverlap;
    sums.abs += n * figures.meanAbsLogprobDiff;
    sums.signed += n * figures.meanSignedLogprobDiff;
    sums.misses += n * figures.rankMissFraction;
    sums.bad += n * figures.badRowFraction;
    sums.p99 = Math.max(sums.p99, figures.p99AbsLogprobDiff);
  });
  const parsedLeft = left.records.map(parseRecord);
  const parsedRight = right.records.map(parseRecord);
  const rows = sampleRows(
    parsedLeft.map((r) => r.header.positions),
    mulberry32(task.seed),
  );
  const verdict = compareResults(parsedLeft, parsedRight, rows);
  const mean = (sum: number) => sum / sums.positions;
  return {
    documents: left.records.length,
    positions: sums.positions,
    meanOverlap: mean(sums.overlap),
    meanAbsLogprobDiff: mean(sums.abs),
    meanSignedLogprobDiff: mean(sums.signed),
    p99AbsLogprobDiff: sums.p99,
    rankMissFraction: mean(sums.misses),
    badRowFraction: mean(sums.bad),
    agree: verdict.agree,
    reason: verdict.reason,
    providers: [left.provider, right.provider],
    modelHashes: [left.modelHash, right.modelHash],
  };
}

function parse(argv: string[]): { a: TeacherRun; b: TeacherRun; task: AgreementTask; json: boolean } {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      model: { type: 'string' },
      'model-b': { type: 'string' },
      ep: { type: 'string', default: 'cpu' },
      'ep-b': { type: 'string' },
      threads: { type: 'string' },
      'threads-b': { type: 'string' },
      'batch-tokens': { type: 'string', default: '4096' },
      'batch-tokens-b': { type: 'string' },
      docs: { type: 'string', default: '16' },
      k: { type: 'string', default: '16' },
      'seq-len': { type: 'string', default: '512' },
      seed: { type: 'string', default: '1' },
      json: { type: 'boolean', default: false },
    },
  });
  if (!values.model) throw new Error('--model DIR is required');
  const int = (name: string, raw: string) => {
    if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new Error(`--${name} must be a positive whole number, got '${raw}'`);
    return Number(raw);
  };
  const a: TeacherRun = {
    modelDir: values.model,
    ep: ExecutionProviderChoice.parse(values.ep),
    batchTokens: int('batch-tokens', values['batch-tokens']),
    ...(values.threads ? { threads: int('threads', values.threads) } : {}),
  };
  const threadsB = values['threads-b'] ?? values.threads;
  const b: TeacherRun = {
    modelDir: values['model-b'] ?? a.modelDir,
    ep: ExecutionProviderChoice.parse(values['ep-b'] ?? values.ep),
    batchTokens: int('batch-tokens-b', values['batch-tokens-b'] ?? values['batch-tokens']),
    ...(threadsB ? { threads: int('threads-b', threadsB) } : {}),
  };
  const task = {
    docs: int('docs', values.docs),
    k: int('k', values.k),
    seqLen: int('seq-len', values['seq-len']),
    seed: int('seed', values.seed),
  };
  return { a, b, task, json: values.json };
}

const round = (value: number, digits = 4) => Math.round(value * 10 ** digits) / 10 ** digits;

export async function run(argv: string[]): Promise<number> {
  let args;
  try {
    args = parse(argv);
  } catch (error) {
    console.error(`nya bench agreement: ${errorMessage(error)}\n${USAGE}`);
    return 2;
  }
  const cacheDir = mkdtempSync(join(tmpdir(), 'nya-bench-agreement-'));
  try {
    const f = await measureAgreement(args.a, args.b, args.task, cacheDir);
    const line = `A ${f.providers[0]} vs B ${f.providers[1]} over ${f.positions} positions: overlap ${round(f.meanOverlap, 3)}, mean |Δ| ${round(f.meanAbsLogprobDiff)} nats, mean Δ ${round(f.meanSignedLogprobDiff)}, rank misses ${round(100 * f.rankMissFraction, 2)} %, bad rows ${round(100 * f.badRowFraction, 2)} %: ${f.agree ? 'agree' : `disagree (${f.reason})`}`;
    if (!args.json) {
      console.log(line);
      return 0;
    }
    console.error(line);
    console.log(
      JSON.stringify({
        suite: 'agreement',
        a: {
          model: args.a.modelDir,
          execution_provider: f.providers[0],
          model_hash: f.modelHashes[0],
          threads: args.a.threads ?? null,
          batch_tokens: args.a.batchTokens,
        },
        b: {
          model: args.b.modelDir,
          execution_provider: f.providers[1],
          model_hash: f.modelHashes[1],
          threads: args.b.threads ?? null,
          batch_tokens: args.b.batchTokens,
        },
        documents: f.documents,
        positions: f.positions,
        mean_overlap: round(f.meanOverlap),
        mean_abs_logprob_diff: round(f.meanAbsLogprobDiff),
        mean_signed_logprob_diff: round(f.meanSignedLogprobDiff),
        p99_abs_logprob_diff: round(f.p99AbsLogprobDiff),
        rank_miss_fraction: round(f.rankMissFraction),
        bad_row_fraction: round(f.badRowFraction),
        agree: f.agree,
        reason: f.reason,
      }),
    );
    return 0;
  } catch (error) {
    console.error(`nya bench agreement: ${errorMessage(error)}`);
    return 1;
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
}
