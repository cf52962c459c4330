/**
 * Writes a generated test teacher (src-main/teacher/test-model.ts): a Mistral-architecture model
 * with seeded random weights in the fp16 and int4 variants, under OUT/fp16 and OUT/int4. Bundled by
 * scripts/build.mjs to dist/tools/gen-test-model.cjs (not run at build time); the bundle is also its
 * own worker: tensors are made on `--threads` worker threads, each writing at its tensors' offsets
 * and holding one tensor at a time (the 7B shape's largest, the embedding and the LM head, are
 * 268 MB each, the LM head with its int4 copy), so memory is about threads × 0.4 GB at most.
 *
 *   node dist/tools/gen-test-model.cjs --out DIR [--shape 7b] [--hidden N --layers N --heads N
 *     --kv-heads N --intermediate N] [--seed N] [--name ID] [--variants fp16,int4] [--threads N]
 *     [--min-vram-mib-fp16 N] [--min-vram-mib-int4 N]
 *
 * The last line on stdout is one JSON object: the folders, their variant ids and bytes, seconds, MB/s.
 */
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { MistralShape } from '../src-main/teacher/mistral-graph';
import {
  closeTestModelData,
  finishTestModels,
  MISTRAL_7B_SHAPE,
  openTestModelData,
  planTestModels,
  writeTestModelTensor,
  type TestModelOptions,
  type TestModelPlan,
  type TestModelPrecision,
} from '../src-main/teacher/test-model';

const USAGE =
  'usage: gen-test-model --out DIR [--shape 7b] [--hidden N] [--layers N] [--heads N] [--kv-heads N] [--intermediate N] [--seed N] [--name ID] [--variants fp16,int4] [--threads N] [--min-vram-mib-fp16 N] [--min-vram-mib-int4 N]';

/** A small default: seconds on a CPU, and shapes unlike the demo's (hidden 64, 2 layers). */
const SMALL_SHAPE: MistralShape = { ...MISTRAL_7B_SHAPE, hiddenSize: 256, intermediateSize: 704, numLayers: 4, numHeads: 8, numKvHeads: 2 };

function parse(argv: string[]): { opts: TestModelOptions; threads: number } {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      out: { type: 'string' },
      shape: { type: 'string' },
      hidden: { type: 'string' },
      layers: { type: 'string' },
      heads: { type: 'string' },
      'kv-heads': { type: 'string' },
      intermediate: { type: 'string' },
      seed: { type: 'string', default: '1' },
      name: { type: 'string' },
      variants: { type: 'string', default: 'fp16,int4' },
      threads: { type: 'string' },
      'min-vram-mib-fp16': { type: 'string' },
      'min-vram-mib-int4': { type: 'string' },
    },
  });
  if (!values.out) throw new Error('--out DIR is required');
  const int = (name: string, raw: string | undefined, fallback: number) => {
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw)) throw new Error(`--${name} must be a whole number, got '${raw}'`);
    return Number(raw);
  };
  if (values.shape !== undefined && values.shape !== '7b') throw new Error(`--shape knows only '7b', got '${values.shape}'`);
  const base = values.shape === '7b' ? MISTRAL_7B_SHAPE : SMALL_SHAPE;
  const shape: MistralShape = {
    ...base,
    hiddenSize: int('hidden', values.hidden, base.hiddenSize),
    numLayers: int('layers', values.layers, base.numLayers),
    numHeads: int('heads', values.heads, base.numHeads),
    numKvHeads: int('kv-heads', values['kv-heads'], base.numKvHeads),
    intermediateSize: int('intermediate', values.intermediate, base.intermediateSize),
  };
  const seed = int('seed', values.seed, 1);
  const variants = values.variants.split(',');
  for (const v of variants) if (v !== 'fp16' && v !== 'int4') throw new Error(`--variants takes fp16 and int4, got '${v}'`);
  const out: Partial<Record<TestModelPrecision, string>> = {};
  for (const v of variants as TestModelPrecision[]) out[v] = join(resolve(values.out), v);
  const minVramMiB: Partial<Record<TestModelPrecision, number>> = {};
  if (values['min-vram-mib-fp16'] !== undefined) minVramMiB.fp16 = int('min-vram-mib-fp16', values['min-vram-mib-fp16'], 0);
  if (values['min-vram-mib-int4'] !== undefined) minVramMiB.int4 = int('min-vram-mib-int4', values['min-vram-mib-int4'], 0);
  const name = values.name ?? `nya-test-mistral-h${shape.hiddenSize}-l${shape.numLayers}-s${seed}`;
  return { opts: { shape, seed, name, out, minVramMiB }, threads: Math.max(1, int('threads', values.threads, availableParallelism())) };
}

/** Largest tensors first, so no thread is left with the embedding at the end. */
function workOrder(plan: TestModelPlan): number[] {
  const size = (i: number) => plan.specs[i]!.dims.reduce((a, b) => a * b, 1);
  return plan.specs.map((_, i) => i).sort((a, b) => size(b) - size(a));
}

async function writeOnWorkers(plan: TestModelPlan, threads: number): Promise<void> {
  const queue = workOrder(plan);
  await Promise.all(
    Array.from({ length: Math.min(threads, queue.length) }, async () => {
      const worker = new Worker(__filename, { workerData: plan.opts });
      await new Promise<void>((done, fail) => {
        worker.on('message', () => worker.postMessage(queue.length > 0 ? queue.shift() : null));
        worker.on('error', fail);
        worker.on('exit', (code) => (code === 0 ? done() : fail(new Error(`a generator thread exited with code ${code}`))));
      });
    }),
  );
}

/** A worker: asks for a tensor index, writes it, asks again; `null` ends it. */
function serveAsWorker(): void {
  const plan = planTestModels(workerData as TestModelOptions);
  const fds = openTestModelData(plan, 'r+');
  parentPort!.on('message', (index: number | null) => {
    if (index === null) {
      closeTestModelData(fds);
      parentPort!.close();
      return;
    }
    writeTestModelTensor(plan, index, fds);
    parentPort!.postMessage('next');
  });
  parentPort!.postMessage('next');
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parse(process.argv.slice(2));
  } catch (error) {
    console.error(`gen-test-model: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const started = performance.now();
  const plan = planTestModels(parsed.opts);
  const fds = openTestModelData(plan);
  try {
    if (parsed.threads === 1) for (let i = 0; i < plan.specs.length; i++) writeTestModelTensor(plan, i, fds);
    else await writeOnWorkers(plan, parsed.threads);
  } finally {
    closeTestModelData(fds);
  }
  const written = finishTestModels(plan);
  const seconds = (performance.now() - started) / 1000;
  const bytes = written.reduce((n, w) => n + w.dataBytes, 0);
  for (const w of written) console.error(`gen-test-model: ${w.variantId} in ${w.dir} (${(w.dataBytes / 1e9).toFixed(3)} GB)`);
  console.log(
    JSON.stringify({
      models: written,
      shape: parsed.opts.shape,
      seed: parsed.opts.seed,
      threads: parsed.threads,
      seconds: Math.round(seconds * 100) / 100,
      mb_per_s: Math.round(bytes / 1e6 / seconds),
    }),
  );
  return 0;
}

if (isMainThread) {
  main().then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      console.error(`gen-test-model: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    },
  );
} else {
  serveAsWorker();
}
