// Writes dist/fineweb/sample-000.parquet, the FineWeb-format shard the quick start and the tests
// ingest, from the documents in assets/fineweb-sample/*.jsonl. Run by scripts/build.mjs (bundled
// to dist/tools/); does nothing when the shard already matches its inputs.
import { readFileSync } from 'node:fs';
import { distPath, resourcePath } from '../src-node/app-paths';
import { generateSampleShard } from '../src-validator/fineweb/sample-shard';

const started = Date.now();
// This bundle's own bytes: a change to the conversion code regenerates the shard too.
const fingerprint = readFileSync(__filename, 'utf8');
generateSampleShard(resourcePath('assets', 'fineweb-sample'), distPath('fineweb', 'sample-000.parquet'), fingerprint).then(
  ({ written, rows, path }) => {
    const what = written ? `wrote ${rows} documents to` : `${rows} documents, up to date:`;
    console.log(`build: sample FineWeb shard ${what} ${path} (${Date.now() - started} ms)`);
  },
  (err: unknown) => {
    console.error(`build: cannot generate the sample FineWeb shard: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
