/**
 * `nya bench teacher|validator|checks|agreement|placement [--json] ...`: each suite lives with the code it measures and
 * exports `run(argv)`; the last line of `--json` output is one JSON object (scripts/bench.mjs
 * and docs/PERFORMANCE.md rely on that).
 */
const SUITES: Record<string, () => Promise<{ run(argv: string[]): Promise<number> }>> = {
  teacher: () => import('../../teacher/bench'),
  validator: () => import('../../../src-validator/bench/validator-bench'),
  checks: () => import('../../../src-validator/bench/checks-bench'),
  agreement: () => import('./bench-agreement'),
  placement: () => import('../../teacher/placement-bench'),
};

export async function run(argv: string[]): Promise<number> {
  const [suite, ...rest] = argv;
  const load = suite ? SUITES[suite] : undefined;
  if (!load) {
    console.error(`usage: nya bench ${Object.keys(SUITES).join('|')} [--json]`);
    return 2;
  }
  return (await load()).run(rest);
}
