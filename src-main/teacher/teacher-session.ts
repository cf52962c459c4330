import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ExecutionProviderChoice } from '../../src-shared/state';
import { errorMessage, silentLogger, type Logger } from '../../src-node/log';
import { resourcePath, unpackedPath } from '../../src-node/app-paths';
import type { BatchInputs } from './batcher';
import { planProviders, providerFailure, providerLabel, providerOption, providerReason, type ProviderName } from './execution-provider';
import { openModelFolder, ModelFolderError, readModelProto, type HfConfig, type ModelFolder } from './model-folder';
import { externalDataFiles, modelHashOf } from './model-hash';
import { DataType } from './onnx-graph';
import { cacheTopKModel, findLogitsOutput, TOPK_IDS, TOPK_K_INPUT, TOPK_LOGPROBS } from './topk-graph';

export interface TeacherSessionOptions {
  modelDir: string;
  /** Where extended graphs are cached (see topk-graph.ts). */
  cacheDir: string;
  executionProvider?: ExecutionProviderChoice;
  gpuDeviceId?: number;
  /** CPU threads for one forward pass; ONNX Runtime's default (all cores) when unset. */
  intraOpThreads?: number;
  /** ONNX Runtime's profiling into `<prefix>_<time>.json` (which provider ran each node); written by `endProfiling()`. */
  profileFilePrefix?: string;
  log?: Logger;
}

export interface TopKOutput {
  /** rows × width × k, row-major. */
  logprobs: Float32Array;
  ids: Int32Array;
  forwardMs: number;
  /** What crossed from the session to JS. */
  hostBytes: number;
}

/** Thrown for ONNX Runtime allocation failures, which a smaller batch may avoid. */
export class OutOfMemoryError extends Error {
  override readonly name = 'OutOfMemoryError';
}

// ONNX Runtime prints a failed provider (no CUDA libraries) as an error on stderr before the
// session falls back; the teacher reports it as providerReason instead, once, in words.
ort.env.logLevel = 'fatal';

const OOM_PATTERN = /out of memory|bad_alloc|failed to allocate|cudaErrorMemoryAllocation|E_OUTOFMEMORY|DXGI_ERROR_DEVICE_REMOVED/i;

type InputFeed = (rows: number, inputs: BatchInputs, k: number) => ort.Tensor;

/** A loaded teacher: the top-k-extended decoder on the best available execution provider. */
export class TeacherSession {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly feeds: Map<string, InputFeed>,
    readonly folder: ModelFolder,
    readonly modelHash: string,
    readonly provider: ProviderName,
    readonly providerReason: string,
    /** Vocabulary size and bytes per logit, for what the full logits would have cost. */
    readonly vocabSize: number,
    readonly logitBytes: number,
  ) {}

  get executionProvider(): string {
    return providerLabel(this.provider);
  }

  /** What a position would cost the host without the top-k head. */
  get fullLogitsBytesPerPosition(): number {
    return this.vocabSize * this.logitBytes;
  }

  static async load(opts: TeacherSessionOptions): Promise<TeacherSession> {
    const log = opts.log ?? silentLogger;
    const folder = openModelFolder(opts.modelDir);
    const model = readModelProto(folder.modelPath);
    const dataFiles = externalDataFiles(model);
    const hash = await modelHashOf(folder.modelPath, dataFiles);
    const logits = findLogitsOutput(model.graph!);
    const cachedPath = cacheTopKModel(model, opts.cacheDir, hash);
    const choice = opts.executionProvider ?? 'auto';
    const plan = planProviders(choice, process.platform, process.arch);
    const failures: string[] = [];
    for (const provider of plan.candidates) {
      try {
        const session = await createSession(cachedPath, dataFiles.length > 0 ? dirname(folder.modelPath) : null, {
          executionProviders: [providerOption(provider, opts.gpuDeviceId ?? 0)],
          graphOptimizationLevel: 'all',
          logSeverityLevel: 3,
          // Over a mining run the CPU arena held the demo worker at ~760 MiB between tasks; without it
          // the worker falls back to ~250 MiB, with the same peak and speed (docs/PERFORMANCE.md).
          ...(provider === 'cpu' ? { enableCpuMemArena: false } : {}),
          ...(opts.intraOpThreads ? { intraOpNumThreads: opts.intraOpThreads } : {}),
          ...(opts.profileFilePrefix ? { enableProfiling: true, profileFilePrefix: opts.profileFilePrefix } : {}),
        });
        const reason = providerReason(provider, choice, failures, plan.ruledOut);
        log.debug(`teacher on ${providerLabel(provider)}: ${reason}`);
        const vocab = logits.vocabSize ?? folder.config?.vocab_size;
        if (!vocab) throw new ModelFolderError('the vocabulary size is neither in the logits output shape nor in config.json.');
        const logitBytes = logits.elemType === DataType.FLOAT16 || logits.elemType === DataType.BFLOAT16 ? 2 : 4;
        return new TeacherSession(session, inputFeeds(session, folder.config), folder, hash, provider, reason, vocab, logitBytes);
      } catch (error) {
        if (provider === 'cpu' || error instanceof ModelFolderError) {
          // The cached graph is derived data: drop it, so a damaged copy cannot outlive a fix.
          rmSync(cachedPath, { force: true });
          throw asModelError(error, folder);
        }
        // The raw line is for whoever debugs ONNX Runtime; the reason in words reaches the user once, with the teacher's state.
        log.debug(`${providerLabel(provider)} failed: ${errorMessage(error)}`);
        failures.push(providerFailure(provider, errorMessage(error), providerLibraryInstalled(provider)));
      }
    }
    throw new Error('no execution provider could load the model');
  }

  /** One forward pass; right-padded rows in, top-k per position out. */
  async run(inputs: BatchInputs, k: number): Promise<TopKOutput> {
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, feed] of this.feeds) feeds[name] = feed(inputs.rows, inputs, k);
    const started = performance.now();
    let out: ort.InferenceSession.ReturnType;
    try {
      out = await this.session.run(feeds, [TOPK_LOGPROBS, TOPK_IDS]);
    } catch (error) {
      const message = errorMessage(error);
      if (OOM_PATTERN.test(message))
        throw new OutOfMemoryError(`out of memory on a ${inputs.rows}×${inputs.width} batch: ${firstLine(message)}`);
      throw error;
    }
    const forwardMs = performance.now() - started;
    const logprobs = out[TOPK_LOGPROBS]!.data as Float32Array;
    const ids = out[TOPK_IDS]!.data as Int32Array;
    return { logprobs, ids, forwardMs, hostBytes: logprobs.byteLength + ids.byteLength };
  }

  /** Writes the profile that `profileFilePrefix` asked for. */
  endProfiling(): void {
    this.session.endProfiling();
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** Whether onnxruntime-node's own library for `provider` is beside its binding (its install script fetches CUDA's). */
function providerLibraryInstalled(provider: ProviderName): boolean {
  if (provider !== 'cuda') return true;
  const bin = resourcePath('node_modules', 'onnxruntime-node', 'bin', 'napi-v6', process.platform, process.arch);
  return existsSync(join(unpackedPath(bin), 'libonnxruntime_providers_cuda.so'));
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.trim();
}

function asModelError(error: unknown, folder: ModelFolder): Error {
  if (error instanceof ModelFolderError) return error;
  return new ModelFolderError(`ONNX Runtime cannot load ${folder.modelPath}: ${firstLine(errorMessage(error))}`);
}

/**
 * ONNX Runtime reads external data relative to the graph file's folder and refuses locations that
 * leave it, symlinks included; graph bytes loaded from memory resolve against the working
 * directory instead. So the cached graph (small) is loaded as bytes with the working directory set
 * to the model's folder for as long as the session is being created; the weights are still read
 * (memory-mapped) by ONNX Runtime itself, never into a JS buffer. Creations are serialised.
 */
let creating: Promise<unknown> = Promise.resolve();

function createSession(graphPath: string, externalDataDir: string | null, options: ort.InferenceSession.SessionOptions) {
  if (!externalDataDir) return ort.InferenceSession.create(graphPath, options);
  // The optimizers of level 'all' (fp16 and MatMulNBits kernels' pre-packing) read external
  // initializers by the model's path, which bytes do not have; this entry gives them the folder.
  const withFolder: ort.InferenceSession.SessionOptions = {
    ...options,
    extra: { session: { model_external_initializers_file_folder_path: externalDataDir } },
  };
  const run = creating.then(async () => {
    const previous = process.cwd();
    process.chdir(externalDataDir);
    try {
      return await ort.InferenceSession.create(readFileSync(graphPath), withFolder);
    } finally {
      process.chdir(previous);
    }
  });
  creating = run.catch(() => undefined);
  return run;
}

/** How each of the model's inputs is fed, discovered from the session, not assumed. */
function inputFeeds(session: ort.InferenceSession, config: HfConfig | null): Map<string, InputFeed> {
  const feeds = new Map<string, InputFeed>();
  for (const meta of session.inputMetadata) {
    const { name } = meta;
    const type = meta.isTensor ? meta.type : 'unknown';
    const shape = meta.isTensor ? meta.shape : [];
    const ints = (pick: (i: BatchInputs) => BigInt64Array): InputFeed =>
      type === 'int32'
        ? (rows, i) => new ort.Tensor('int32', Int32Array.from(pick(i), Number), [rows, i.width])
        : (rows, i) => new ort.Tensor('int64', pick(i), [rows, i.width]);
    if (name === 'input_ids')
      feeds.set(
        name,
        ints((i) => i.inputIds),
      );
    else if (name === 'attention_mask')
      feeds.set(
        name,
        ints((i) => i.attentionMask),
      );
    else if (name === 'position_ids')
      feeds.set(
        name,
        ints((i) => i.positionIds),
      );
    else if (name === TOPK_K_INPUT) feeds.set(name, (_rows, _i, k) => new ort.Tensor('int64', BigInt64Array.of(BigInt(k)), [1]));
    else if (name === 'use_cache_branch') feeds.set(name, () => new ort.Tensor('bool', [false], [1]));
    else if (name.startsWith('past_key_values.') || name.startsWith('past_key.') || name.startsWith('past_value.')) {
      feeds.set(name, emptyCacheFeed(name, type, shape, config));
    } else {
      throw new ModelFolderError(`the model has an input '${name}' that the teacher does not know how to feed.`);
    }
  }
  return feeds;
}

/** An empty past ([batch, kv heads, 0, head dim]): every pass starts from the first token. */
function emptyCacheFeed(name: string, type: string, shape: readonly (number | string | null)[], config: HfConfig | null): InputFeed {
  const heads = config?.num_key_value_heads ?? config?.num_attention_heads;
  const headDim =
    config?.head_dim ?? (config?.hidden_size && config.num_attention_heads ? config.hidden_size / config.num_attention_heads : undefined);
  const fixed = shape.map((d, i) => {
    if (typeof d === 'number' && d > 0) return d;
    if (i === 1 && heads) return heads;
    if (i === 3 && headDim) return headDim;
    if (i === 0 || i === 2) return -1;
    throw new ModelFolderError(`the size of axis ${i} of '${name}' is not in the model or config.json (num_key_value_heads, head_dim).`);
  });
  if (fixed.length !== 4)
    throw new ModelFolderError(`'${name}' has ${fixed.length} axes; expected [batch, kv heads, past length, head dim].`);
  const elem = type === 'float16' ? 'float16' : 'float32';
  return (rows) => {
    const dims = fixed.map((d, i) => (i === 0 ? rows : i === 2 ? 0 : d));
    return elem === 'float16' ? new ort.Tensor('float16', new Uint16Array(0), dims) : new ort.Tensor('float32', new Float32Array(0), dims);
  };
}
