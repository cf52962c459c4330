import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { errorMessage } from '../../src-node/log';
import { ModelFolderError, openModelFolder, readModelProto } from '../teacher/model-folder';
import { loadTokenizer } from '../../src-node/tokenizer';
import type { ModelFile } from './catalog';
import { ModelError } from './errors';
import { hashFile, readStamp } from './hash-file';

export interface ExternalDataFile {
  path: string;
  bytes: number;
  /** The end of the last tensor stored in it: the file must be at least this long. */
  bytesNeeded: number;
}

export interface VerifiedModelDir {
  dir: string;
  modelPath: string;
  externalData: ExternalDataFile[];
  tokenizerPath: string | null;
  isDemo: boolean;
}

export interface VerifyOptions {
  /** Files a download promised (name, bytes, sha256): each must be there with that size. */
  expectedFiles?: readonly ModelFile[];
  /** Also re-hash every expected file (minutes for a 7B model); otherwise the download's stamp counts. */
  rehash?: boolean;
}

/** ONNX TensorProto.DataLocation.EXTERNAL. */
const EXTERNAL = 1;

/** Every external-data file the graph's initializers point at, with the bytes each must hold. */
function externalDataNeeds(modelPath: string): Map<string, number> {
  const model = readModelProto(modelPath);
  const needs = new Map<string, number>();
  for (const tensor of model.graph?.initializer ?? []) {
    if (tensor.dataLocation !== EXTERNAL) continue;
    const entries = new Map((tensor.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
    const location = entries.get('location');
    if (!location)
      throw new ModelError(
        'corrupt',
        `${modelPath}: tensor ${tensor.name} is stored externally but names no file; export the model again.`,
      );
    const end = Number(entries.get('offset') ?? 0) + Number(entries.get('length') ?? 0);
    needs.set(location, Math.max(needs.get(location) ?? 0, end));
  }
  return needs;
}

async function checkExpectedFile(dir: string, file: ModelFile, rehash: boolean): Promise<void> {
  const path = join(dir, file.name);
  const size = await stat(path).then(
    (s) => s.size,
    () => null,
  );
  if (size === null) throw new ModelError('missing', `${path} is missing; download the model again.`);
  if (size !== file.bytes) throw new ModelError('corrupt', `${path} is ${size} bytes, expected ${file.bytes}; download the model again.`);
  const stamped = await readStamp(path);
  if (!rehash && stamped === file.sha256) return;
  const actual = (await hashFile(path)).digest('hex');
  if (actual !== file.sha256) {
    throw new ModelError('corrupt', `${path} is corrupt: its sha256 is ${actual}, expected ${file.sha256}; download the model again.`);
  }
}

/**
 * Checks a model folder before the teacher loads it: the ONNX graph parses, every external-data
 * file it references is there and long enough, a tokenizer.json (optional) loads, and, for a
 * downloaded variant, every promised file has its size and hash. Throws a `ModelError` ('missing'
 * or 'corrupt') whose message names the file and what to do.
 */
export async function verifyModelDir(dir: string, options: VerifyOptions = {}): Promise<VerifiedModelDir> {
  let folder;
  try {
    folder = openModelFolder(dir);
  } catch (error) {
    if (error instanceof ModelFolderError)
      throw new ModelError(existsSync(dir) && !/no ONNX model|does not exist/.test(error.message) ? 'corrupt' : 'missing', error.message);
    throw error;
  }
  let needs: Map<string, number>;
  try {
    needs = externalDataNeeds(folder.modelPath);
  } catch (error) {
    if (error instanceof ModelError) throw error;
    throw new ModelError('corrupt', errorMessage(error));
  }
  const externalData: ExternalDataFile[] = [];
  for (const [location, bytesNeeded] of needs) {
    const path = join(dirname(folder.modelPath), location);
    const bytes = await stat(path).then(
      (s) => s.size,
      () => null,
    );
    const name = relative(dir, path);
    if (bytes === null)
      throw new ModelError('missing', `${name} is missing from ${dir}: ${relative(dir, folder.modelPath)} keeps its weights there.`);
    if (bytes < bytesNeeded) {
      throw new ModelError(
        'corrupt',
        `${path} is truncated: ${bytes} bytes, the graph needs at least ${bytesNeeded}; download the model again.`,
      );
    }
    externalData.push({ path, bytes, bytesNeeded });
  }
  for (const file of options.expectedFiles ?? []) await checkExpectedFile(dir, file, options.rehash ?? false);
  const tokenizerPath = join(dir, 'tokenizer.json');
  const hasTokenizer = existsSync(tokenizerPath);
  if (hasTokenizer) {
    try {
      await loadTokenizer(dir);
    } catch (error) {
      throw new ModelError('corrupt', errorMessage(error));
    }
  }
  return { dir, modelPath: folder.modelPath, externalData, tokenizerPath: hasTokenizer ? tokenizerPath : null, isDemo: folder.isDemo };
}
