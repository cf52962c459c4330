import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type * as onnx from './onnx-schema';
import { DEMO_MARKER_FILE } from './demo-model';
import { decodeModel, encodeModel } from './onnx-graph';
import { firstDifference } from './protobuf-codec';

/**
 * A teacher model folder as users get it: an ONNX export (Optimum writes `model.onnx` plus
 * `model.onnx_data`; onnx-community repos keep theirs under `onnx/`), optionally `config.json` and
 * `tokenizer.json`. Errors here are sentences a user can act on.
 */
export interface ModelFolder {
  dir: string;
  /** The ONNX graph file. */
  modelPath: string;
  /** Hugging Face config.json, when there is one (vocab size, kv heads, head dim). */
  config: HfConfig | null;
  isDemo: boolean;
  /** For the UI: config's `_name_or_path`, else the folder's name. */
  name: string;
}

export interface HfConfig {
  vocab_size?: number;
  num_key_value_heads?: number;
  num_attention_heads?: number;
  hidden_size?: number;
  head_dim?: number;
  _name_or_path?: string;
}

export class ModelFolderError extends Error {
  override readonly name = 'ModelFolderError';
}

/** In order of preference: what Optimum and onnx-community call a decoder's graph. */
const MODEL_FILE_NAMES = ['model.onnx', 'decoder_model_merged.onnx', 'decoder_model.onnx'];

function findModelFile(dir: string): string {
  for (const sub of ['', 'onnx']) {
    const base = join(dir, sub);
    for (const name of MODEL_FILE_NAMES) if (existsSync(join(base, name))) return join(base, name);
  }
  for (const sub of ['', 'onnx']) {
    const base = join(dir, sub);
    if (!existsSync(base) || !statSync(base).isDirectory()) continue;
    const onnxFiles = readdirSync(base).filter((f) => f.endsWith('.onnx'));
    if (onnxFiles.length === 1) return join(base, onnxFiles[0]!);
    if (onnxFiles.length > 1) {
      throw new ModelFolderError(`${base} holds several ONNX files (${onnxFiles.join(', ')}); name one model.onnx.`);
    }
  }
  throw new ModelFolderError(`no ONNX model in ${dir}: expected model.onnx (with its external data, e.g. model.onnx_data).`);
}

function readConfig(dir: string): HfConfig | null {
  const path = join(dir, 'config.json');
  if (!existsSync(path)) return null;
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return parsed && typeof parsed === 'object' ? (parsed as HfConfig) : null;
  } catch (error) {
    throw new ModelFolderError(`${path} is not valid JSON (${(error as Error).message}).`);
  }
}

export function openModelFolder(dir: string): ModelFolder {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ModelFolderError(`model folder ${dir} does not exist.`);
  }
  const modelPath = findModelFile(dir);
  const config = readConfig(dir);
  const isDemo = existsSync(join(dir, DEMO_MARKER_FILE));
  const name = config?._name_or_path || basename(dir);
  return { dir, modelPath, config, isDemo, name };
}

/**
 * The graph file's protobuf (for an external-data export: the graph only, megabytes, not the
 * weights). The teacher re-encodes it with a top-k head appended, so a model whose unchanged
 * re-encoding is not byte-identical is refused here: what differs would be changed silently.
 */
export function readModelProto(modelPath: string): onnx.ModelProto {
  let model: onnx.ModelProto;
  const bytes = readFileSync(modelPath);
  try {
    model = decodeModel(bytes);
  } catch (error) {
    throw new ModelFolderError(`${modelPath} is not a valid ONNX model (${(error as Error).message}); download it again.`);
  }
  if (!model.graph?.node?.length) {
    throw new ModelFolderError(`${modelPath} is not a valid ONNX model (it has no graph); download it again.`);
  }
  const again = encodeModel(model);
  if (!bytes.equals(again)) {
    throw new ModelFolderError(
      `${modelPath} cannot be extended safely: re-encoding it unchanged gives different bytes (from byte ` +
        `${firstDifference(bytes, again)} of ${bytes.length}), so its writer used a protobuf form this reader does not ` +
        `reproduce (fields out of order, overlong numbers, text that is not UTF-8). Re-save it with ` +
        `onnx.save(onnx.load(path, load_external_data=False), path) and try again.`,
    );
  }
  return model;
}
