#!/usr/bin/env node
// `npm run bench -- [teacher|validator|checks ...] [suite options]`: builds what the CLI needs (main
// bundles; the demo model and sample shard when they are not current), then runs
// `node bin/nya.cjs bench <suite> --json` for each suite asked for, or for every suite when none
// is named. Each suite's last output line is one JSON object; a suite this build does not have
// yet (exit code 2 from its placeholder) is reported and skipped when running all.
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SUITES = ['teacher', 'validator', 'checks'];

// Leading words name suites; everything from the first option on goes to each suite.
const args = process.argv.slice(2);
const firstOption = args.findIndex((a) => a.startsWith('-'));
const named = firstOption === -1 ? args : args.slice(0, firstOption);
const passThrough = firstOption === -1 ? [] : args.slice(firstOption);
const unknown = named.filter((a) => !SUITES.includes(a));
if (unknown.length > 0) {
  console.error(`bench: unknown suite ${unknown.join(', ')}; the suites are ${SUITES.join(', ')}`);
  process.exit(2);
}
const suites = named.length > 0 ? named : SUITES;

function run(argv, stdio = 'inherit') {
  return spawnSync(process.execPath, argv, { cwd: root, stdio });
}

for (const only of ['main', 'assets']) {
  const built = run([resolve(root, 'scripts/build.mjs'), `--only=${only}`]);
  if (built.status !== 0) {
    console.error(`bench: the ${only} build failed`);
    process.exit(1);
  }
}

let failed = false;
for (const suite of suites) {
  console.error(`bench: ${suite}`);
  const result = run([resolve(root, 'bin/nya.cjs'), 'bench', suite, '--json', ...passThrough]);
  if (result.status === 2 && named.length === 0) {
    console.error(`bench: ${suite} is not available in this build; skipped`);
  } else if (result.status !== 0) {
    console.error(`bench: ${suite} exited with ${result.status}`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
