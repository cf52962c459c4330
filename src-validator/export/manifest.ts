import { LOGPROB_FLOOR, LOGPROB_STEP, MAX_LOGPROB_ERROR } from '../../src-node/soft-labels';
import { DATASET_COLUMNS, type DatasetColumn } from './dataset-schema';

export const DEFAULT_MODEL_NAME = 'mistralai/Mistral-7B-Instruct-v0.3';

export interface ShardEntry {
  /** File name, relative to the manifest. */
  name: string;
  rows: number;
  bytes: number;
  sha256: string;
}

/** `manifest.json`: what a downloader checks the shards against, and what they mean. */
export interface DatasetManifest {
  format: 'nya-soft-labels-parquet';
  formatVersion: 1;
  license: 'MIT';
  modelName: string;
  /** Every teacher model hash that occurs in the rows, sorted. */
  modelHashes: string[];
  /** Every teacher variant that occurs in the rows (the `variant` column), sorted. */
  variants: string[];
  createdAtMs: number;
  createdAt: string;
  rows: number;
  /** Sum of positions (token_ids lengths) over all rows. */
  positions: number;
  shards: ShardEntry[];
  schema: readonly DatasetColumn[];
  semantics: {
    tokenizer: string;
    bosPrepended: true;
    eosAppended: false;
    topkLayout: 'row-major positions x k';
    logprobBase: 'e';
    logprobStepNats: number;
    maxLogprobErrorNats: number;
    logprobFloorNats: number;
  };
  source: { dataset: string; license: string };
}

export interface ManifestInput {
  modelName: string;
  modelHashes: Iterable<string>;
  variants: Iterable<string>;
  createdAtMs: number;
  positions: number;
  shards: ShardEntry[];
}

export function buildManifest(input: ManifestInput): DatasetManifest {
  return {
    format: 'nya-soft-labels-parquet',
    formatVersion: 1,
    license: 'MIT',
    modelName: input.modelName,
    modelHashes: [...new Set(input.modelHashes)].sort(),
    variants: [...new Set(input.variants)].sort(),
    createdAtMs: input.createdAtMs,
    createdAt: new Date(input.createdAtMs).toISOString(),
    rows: input.shards.reduce((sum, shard) => sum + shard.rows, 0),
    positions: input.positions,
    shards: input.shards,
    schema: DATASET_COLUMNS,
    semantics: {
      tokenizer: 'Mistral v0.3 (tokenizer.json of mistralai/Mistral-7B-Instruct-v0.3)',
      bosPrepended: true,
      eosAppended: false,
      topkLayout: 'row-major positions x k',
      logprobBase: 'e',
      logprobStepNats: LOGPROB_STEP,
      maxLogprobErrorNats: MAX_LOGPROB_ERROR,
      logprobFloorNats: LOGPROB_FLOOR,
    },
    source: { dataset: 'HuggingFaceFW/fineweb', license: 'ODC-By 1.0' },
  };
}
