import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type * as onnx from './onnx-schema';
import { writeFileAtomicSync } from '../../src-node/atomic-write';
import { ModelFolderError } from './model-folder';
import { DataType, encodeModel, node, tensorTypeOf, valueInfo } from './onnx-graph';

/**
 * Only top-k leaves the device: the decoder's `logits` ([batch, seq, vocab], 128 KiB a position
 * in fp32) feed an appended LogSoftmax + TopK, and the session's only outputs become
 * `topk_logprobs` [batch, seq, k] float32 and `topk_ids` [batch, seq, k] int32. k is a graph input
 * (TopK takes it as a tensor), so one extended model serves every task's k without a reload.
 */
export const TOPK_LOGPROBS = 'topk_logprobs';
export const TOPK_IDS = 'topk_ids';
export const TOPK_K_INPUT = 'nya_topk_k';
/** Part of the cache key: bump when the appended nodes change. */
const TOPK_GRAPH_VERSION = 1;

export interface LogitsOutput {
  name: string;
  elemType: number;
  /** The vocabulary axis' size when the graph states it. */
  vocabSize: number | null;
}

const FLOAT_TYPES = new Set<number>([DataType.FLOAT, DataType.FLOAT16, DataType.BFLOAT16, DataType.DOUBLE]);

/** `logits` by name, else the only rank-3 floating-point output. */
export function findLogitsOutput(graph: onnx.GraphProto): LogitsOutput {
  const outputs = graph.output ?? [];
  const typed = outputs.map((o) => ({ name: o.name ?? '', type: tensorTypeOf(o) }));
  const byName = typed.find((o) => o.name === 'logits');
  const candidates = byName ? [byName] : typed.filter((o) => o.type && o.type.dims.length === 3 && FLOAT_TYPES.has(o.type.elemType));
  if (candidates.length !== 1 || !candidates[0]!.type) {
    throw new ModelFolderError(
      `cannot tell which output holds the logits (outputs: ${outputs.map((o) => o.name).join(', ')}); expected one named 'logits'.`,
    );
  }
  const { name, type } = candidates[0]!;
  const vocab = type!.dims[type!.dims.length - 1];
  return { name, elemType: type!.elemType, vocabSize: typeof vocab === 'number' ? vocab : null };
}

function defaultOpset(model: onnx.ModelProto): number {
  const entry = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  return entry ? Number(entry.version) : 0;
}

/** Appends the top-k head to `model` in place and makes its two outputs the graph's only ones. */
function extendWithTopK(model: onnx.ModelProto): LogitsOutput {
  const graph = model.graph;
  if (!graph) throw new ModelFolderError('the ONNX model has no graph.');
  // TopK's `largest`/`sorted` attributes and negative LogSoftmax axes arrived in opset 11.
  if (defaultOpset(model) < 11) {
    throw new ModelFolderError(
      `the ONNX model uses opset ${defaultOpset(model)}; at least 11 is needed (re-export it with a current exporter).`,
    );
  }
  const logits = findLogitsOutput(graph);
  const p = 'nya_topk';
  let scores = logits.name;
  if (logits.elemType !== DataType.FLOAT) {
    // LogSoftmax over 32768 fp16 logits loses the tail; the head of the graph runs in float32.
    graph.node!.push(node('Cast', [scores], [`${p}/logits_f32`], { to: { int: DataType.FLOAT } }));
    scores = `${p}/logits_f32`;
  }
  graph.node!.push(
    node('LogSoftmax', [scores], [`${p}/logprobs`], { axis: { int: -1 } }),
    node('TopK', [`${p}/logprobs`, TOPK_K_INPUT], [TOPK_LOGPROBS, `${p}/ids_i64`], {
      axis: { int: -1 },
      largest: { int: 1 },
      sorted: { int: 1 },
    }),
    node('Cast', [`${p}/ids_i64`], [TOPK_IDS], { to: { int: DataType.INT32 } }),
  );
  const dims = tensorTypeOf(graph.output!.find((o) => o.name === logits.name)!)!.dims;
  const outDims = [dims[0] ?? 'batch_size', dims[1] ?? 'sequence_length', 'k'].map((d) => d ?? 'dim');
  graph.input!.push(valueInfo(TOPK_K_INPUT, DataType.INT64, [1]));
  graph.output = [valueInfo(TOPK_LOGPROBS, DataType.FLOAT, outDims), valueInfo(TOPK_IDS, DataType.INT32, outDims)];
  return logits;
}

/** Where the extended graph of a model is cached: one file per source model hash and head version. */
function topKCachePath(cacheDir: string, modelHash: string): string {
  return join(cacheDir, `${modelHash}.topk-v${TOPK_GRAPH_VERSION}.onnx`);
}

/**
 * Writes the extended graph to the cache unless it is there. The cached file keeps the source's
 * external-data `location`s as they are (relative names): ONNX Runtime refuses absolute or escaping
 * locations and resolves symlinks, so the session loads these bytes with the model folder as its
 * directory (see teacher-session.ts) rather than by the cached path.
 */
export function cacheTopKModel(model: onnx.ModelProto, cacheDir: string, modelHash: string): string {
  const path = topKCachePath(cacheDir, modelHash);
  if (!existsSync(path)) {
    extendWithTopK(model);
    mkdirSync(cacheDir, { recursive: true });
    writeFileAtomicSync(path, encodeModel(model));
  }
  return path;
}
