import type { SchemaElement } from 'hyparquet';

/** One column of the open data set, as the manifest and the dataset card describe it. */
export interface DatasetColumn {
  name: string;
  /** Arrow-style type, what `pyarrow.parquet.read_schema` prints. */
  type: string;
  description: string;
}

/**
 * The columns, in file order. `topk_ids` and `topk_logprobs` are flat `positions × k` lists in
 * row-major order rather than list<list<...>>: readers reshape them with one call
 * (`np.reshape(-1, k)`), a nested list would cost a second level of repetition levels per cell
 * and decode into Python objects in pandas.
 */
export const DATASET_COLUMNS: readonly DatasetColumn[] = [
  { name: 'doc_id', type: 'string', description: 'FineWeb document id (`<urn:uuid:...>`).' },
  { name: 'url', type: 'string (nullable)', description: 'The page the text came from, as FineWeb records it.' },
  { name: 'task_id', type: 'string', description: 'The validator task the labels were computed for.' },
  { name: 'model_hash', type: 'string', description: 'Lowercase hex SHA-256 of the teacher model file that produced the labels.' },
  {
    name: 'variant',
    type: 'string (nullable)',
    description:
      'The teacher variant that produced the labels (e.g. `mistral-7b-instruct-v0.3-int4`); null for rows validated before variants were recorded. Labels are only ever checked against the same variant.',
  },
  { name: 'k', type: 'int32', description: 'Number of top tokens kept per position.' },
  {
    name: 'token_ids',
    type: 'list<int32>',
    description: 'The document tokenised with the Mistral v0.3 tokenizer: BOS (id 1) first, no EOS. Its length is the number of positions.',
  },
  {
    name: 'topk_ids',
    type: 'list<int32>',
    description:
      'positions × k token ids, row-major: entries [t·k, (t+1)·k) are the k most likely next tokens after token_ids[0..t], most likely first.',
  },
  {
    name: 'topk_logprobs',
    type: 'list<float>',
    description: 'positions × k natural-log probabilities matching topk_ids, each <= 0, descending within a position.',
  },
];

function stringColumn(name: string, optional = false): SchemaElement {
  return { name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: optional ? 'OPTIONAL' : 'REQUIRED' };
}

/** The standard three-level Parquet LIST (what pyarrow writes), elements non-null. */
function listColumn(name: string, type: 'INT32' | 'FLOAT'): SchemaElement[] {
  return [
    { name, repetition_type: 'REQUIRED', converted_type: 'LIST', num_children: 1 },
    { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
    { name: 'element', type, repetition_type: 'REQUIRED' },
  ];
}

export const DATASET_PARQUET_SCHEMA: SchemaElement[] = [
  { name: 'schema', num_children: DATASET_COLUMNS.length },
  stringColumn('doc_id'),
  stringColumn('url', true),
  stringColumn('task_id'),
  stringColumn('model_hash'),
  stringColumn('variant', true),
  { name: 'k', type: 'INT32', repetition_type: 'REQUIRED' },
  ...listColumn('token_ids', 'INT32'),
  ...listColumn('topk_ids', 'INT32'),
  ...listColumn('topk_logprobs', 'FLOAT'),
];
