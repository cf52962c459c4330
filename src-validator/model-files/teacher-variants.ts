import { join } from 'node:path';
import { API, ModelFilePath, ModelResponse, VariantId, type ModelVariantInfo } from '../../src-shared/protocol';
import type { Logger } from '../../src-node/log';
import type { AcceptedVariant } from '../service/context';
import { fileDigests, type FileDigest } from './file-digests';

/** A teacher variant as the operator configures it (`nya validator --model DIR`, `--variant NAME=DIR`). */
export interface TeacherVariantSpec {
  id: string;
  label: string;
  /** What its miners send as `modelHash` (`modelHash()` of its folder). */
  modelHash: string;
  /** GPU memory it needs for a 1024-token batch; 0 for a model that runs anywhere. */
  minVramMiB: number;
  /** The folder holding its files; null when the validator knows only its hash (accepted, not listed). */
  dir: string | null;
  /** What a miner downloads, relative to `dir` with forward slashes: the graph, its external data, config and tokenizer. */
  files: string[];
  /** Base URLs holding the same files (e.g. a Hugging Face `resolve/<commit>/`), listed before the validator's own copy. */
  mirrors: string[];
}

/** A file the validator serves, as it was when hashed at start. */
export type ServedFile = FileDigest;

/** The variants, ready to answer `GET /v1/model` and to serve their files. */
export interface TeacherVariants {
  accepted: AcceptedVariant[];
  /** `GET /v1/model`'s answer. */
  catalog: ModelResponse;
  /** Variant id → file path (as listed) → the file; only variants the validator serves. */
  served: Map<string, Map<string, ServedFile>>;
}

/** Where file hashes are remembered between starts. */
const FILE_DIGESTS_CACHE = 'model-file-digests.json';

function checkSpecs(specs: TeacherVariantSpec[]): void {
  if (specs.length === 0) throw new Error('A validator needs at least one teacher variant.');
  const ids = new Set<string>();
  const hashes = new Set<string>();
  for (const spec of specs) {
    if (!VariantId.safeParse(spec.id).success)
      throw new Error(`The variant name '${spec.id}' is not lowercase letters, digits, '.', '_' and '-' (at most 64).`);
    if (!/^[0-9a-f]{64}$/.test(spec.modelHash))
      throw new Error(`The model hash of ${spec.id} must be 64 lowercase hex characters (SHA-256); got '${spec.modelHash}'.`);
    if (ids.has(spec.id)) throw new Error(`Two teacher variants are named ${spec.id}.`);
    if (hashes.has(spec.modelHash)) throw new Error(`Two teacher variants have the model hash ${spec.modelHash}: they are one model.`);
    ids.add(spec.id);
    hashes.add(spec.modelHash);
    for (const path of spec.files)
      if (!ModelFilePath.safeParse(path).success) throw new Error(`${spec.id}: '${path}' is not a plain relative path.`);
  }
}

/**
 * Hashes the served variants' files (cached by size and mtime in `dataDir`) and builds the
 * catalog. Sources: the mirrors first, then the validator's own copy when it serves files: a
 * mirror (a CDN) has the bandwidth, the validator is the fallback that is always there, and every
 * file is checked against the hash listed here whichever source it came from.
 */
export async function prepareTeacherVariants(
  specs: TeacherVariantSpec[],
  opts: { dataDir: string; serveFiles: boolean; log: Logger },
): Promise<TeacherVariants> {
  checkSpecs(specs);
  const variants: ModelVariantInfo[] = [];
  const served = new Map<string, Map<string, ServedFile>>();
  for (const spec of specs) {
    if (spec.dir === null || spec.files.length === 0) continue;
    const dir = spec.dir;
    const digests = await fileDigests(
      spec.files.map((f) => join(dir, f)),
      join(opts.dataDir, FILE_DIGESTS_CACHE),
      opts.log,
    );
    const sources = [...spec.mirrors, ...(opts.serveFiles ? [API.modelFile(spec.id, '')] : [])];
    if (sources.length === 0) continue;
    if (opts.serveFiles) served.set(spec.id, new Map(spec.files.map((f, i) => [f, digests[i]!])));
    variants.push({
      id: spec.id,
      label: spec.label,
      modelHash: spec.modelHash,
      minVramMiB: spec.minVramMiB,
      files: spec.files.map((path, i) => ({ path, bytes: digests[i]!.bytes, sha256: digests[i]!.sha256 })),
      sources,
    });
  }
  return {
    accepted: specs.map(({ id, modelHash }) => ({ id, modelHash })),
    // Parsed, so a catalog the contract would refuse (too many files, a long label) stops start-up, not a miner.
    catalog: ModelResponse.parse({ variants }),
    served,
  };
}
