import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../..');
const NYA = resolve(ROOT, 'dist/main/nya.cjs');

describe('nya bench validator', () => {
  // A smoke run: the figures are the benchmark's business (docs/PERFORMANCE.md), not a test's.
  it('runs miners, the bundler thread and the check threads end to end and reports one JSON line', async () => {
    expect(existsSync(NYA), 'dist/main/nya.cjs is built by npm test').toBe(true);
    const { stdout } = await promisify(execFile)(process.execPath, [NYA, 'bench', 'validator', '--json', '--seconds', '2', '--miners', '4', '--docs-per-task', '2'], {
      cwd: ROOT, timeout: 120_000,
    });
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(result).toMatchObject({ suite: 'validator', store: 'sqlite', miners: 4, docs_per_task: 2, rejected: 0, errors: 0, check_threads: expect.any(Number) });
    for (const key of ['submissions_per_s', 'validated_tokens_per_s', 'p99_ms', 'server_p99_ms']) expect(result[key]).toBeGreaterThan(0);
  }, 150_000);
});

describe('nya bench checks', () => {
  it('runs the check jobs on bundles that pass and reports their CPU time as one JSON line', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [NYA, 'bench', 'checks', '--json', '--docs-per-task', '2', '--rounds', '2'], { cwd: ROOT, timeout: 60_000 });
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(result).toMatchObject({ suite: 'checks', docs_per_task: 2, rounds: 2 });
    for (const key of ['body_bytes', 'first_ms', 'second_ms', 'compare_ms']) expect(result[key]).toBeGreaterThan(0);
  }, 90_000);

  it('refuses a bad option with a usage error', async () => {
    const failed = await promisify(execFile)(process.execPath, [NYA, 'bench', 'checks', '--rounds', 'many'], { cwd: ROOT }).catch((e: { code: number; stderr: string }) => e);
    expect(failed).toMatchObject({ code: 2, stderr: expect.stringMatching(/--rounds takes a non-negative number/) });
  });
});
