import { DATASET_COLUMNS } from './dataset-schema';
import type { DatasetManifest } from './manifest';

/** Hugging Face's size buckets for the `size_categories` card field. */
function sizeCategory(rows: number): string {
  const buckets: Array<[number, string]> = [
    [1_000, 'n<1K'],
    [10_000, '1K<n<10K'],
    [100_000, '10K<n<100K'],
    [1_000_000, '100K<n<1M'],
    [10_000_000, '1M<n<10M'],
    [100_000_000, '10M<n<100M'],
  ];
  return buckets.find(([limit]) => rows < limit)?.[1] ?? '100M<n<1B';
}

function frontMatter(manifest: DatasetManifest): string {
  return [
    '---',
    'license: mit',
    'task_categories:',
    '- text-generation',
    'language:',
    '- en',
    'tags:',
    '- knowledge-distillation',
    '- soft-labels',
    '- fineweb',
    `pretty_name: Nya soft labels (${manifest.modelName})`,
    'size_categories:',
    `- ${sizeCategory(manifest.rows)}`,
    'configs:',
    '- config_name: default',
    '  data_files:',
    '  - split: train',
    '    path: data-*.parquet',
    '---',
  ].join('\n');
}

/** `README.md` of the exported directory: the dataset card the Hugging Face Hub renders. */
export function renderDatasetCard(manifest: DatasetManifest): string {
  const { semantics } = manifest;
  const fields = DATASET_COLUMNS.map((c) => `| \`${c.name}\` | ${c.type} | ${c.description} |`).join('\n');
  const shards = manifest.shards.map((s) => `| ${s.name} | ${s.rows} | ${s.bytes} | \`${s.sha256}\` |`).join('\n');
  const hashes = manifest.modelHashes.map((h) => `\`${h}\``).join(', ') || '(none: the data set is empty)';
  const variants = manifest.variants.map((v) => `\`${v}\``).join(', ') || '(none recorded)';
  return `${frontMatter(manifest)}

# Nya soft labels

Top-k next-token log-probabilities of **${manifest.modelName}** over FineWeb documents, computed by
volunteers running the Nya Miner and accepted by the Nya validator (redundant agreement or
re-computation). Knowledge-distillation targets: train a student on these instead of one-hot
next tokens. Released under the MIT licence.

- Rows (documents): ${manifest.rows}; positions: ${manifest.positions}
- Teacher model SHA-256: ${hashes}
- Teacher variants: ${variants}. The \`variant\` column says which one produced each row; a row
  was checked only against labels of the same variant (another miner's, or the validator's own).
- Exported: ${manifest.createdAt}
- \`manifest.json\` lists every shard with its row count, size and SHA-256.

## Fields

| column | type | meaning |
| --- | --- | --- |
${fields}

## Semantics

- Text is tokenised with the ${semantics.tokenizer}, **BOS prepended, no EOS, no chat template**.
- There is one position per token, BOS and the last token included: position *t* holds the
  distribution of the token that follows \`token_ids[0..t]\`. So positions = \`len(token_ids)\` and
  \`len(topk_ids) = len(topk_logprobs) = positions × k\`.
- Within a position the k entries are sorted by log-probability, descending (the teacher's TopK
  order); log-probabilities are natural logarithms (base e) of the full-vocabulary softmax.
- Quantisation: miners send log-probabilities in steps of ${semantics.logprobStepNats} nats, so each
  value is within **${semantics.maxLogprobErrorNats} nats** of the teacher's output (values are
  exact multiples of the step in float32). Values below ${semantics.logprobFloorNats.toFixed(4)}
  nats saturate to that floor.
- \`k\` is per row; a row's arrays reshape to \`(positions, k)\`.

## Reading

\`\`\`python
import numpy as np
import pyarrow.parquet as pq

table = pq.read_table("data-00000.parquet")
row = table.slice(0, 1).to_pylist()[0]
k = row["k"]
ids = np.asarray(row["topk_ids"], dtype=np.int32).reshape(-1, k)          # (positions, k)
logprobs = np.asarray(row["topk_logprobs"], dtype=np.float32).reshape(-1, k)
assert ids.shape[0] == len(row["token_ids"])
probs = np.exp(logprobs)                                                    # top-k probability mass <= 1
\`\`\`

## Source and licences

Texts come from [FineWeb](https://huggingface.co/datasets/HuggingFaceFW/fineweb) (${manifest.source.license});
\`doc_id\` and \`url\` join each row back to its FineWeb record. The token ids encode that text, so
FineWeb's terms (and Common Crawl's terms of use) apply to the text itself. The soft labels, the
files and this card are released under the MIT licence.

## Shards

| file | rows | bytes | sha256 |
| --- | --- | --- | --- |
${shards}
`;
}
