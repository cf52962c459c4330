import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * scripts/gpu-check.sh end to end in its --small mode (a tiny shape on the CPU): the same steps a
 * GPU machine runs, so the script is known to work before one is at hand. Uses dist/ (built when
 * missing), like the other CLI tests.
 */
const root = resolve(__dirname, '..', '..');
const script = join(root, 'scripts', 'gpu-check.sh');
const out = mkdtempSync(join(tmpdir(), 'nya-gpu-check-'));
const run = (...args: string[]) => promisify(execFile)('bash', [script, ...args], { cwd: root, maxBuffer: 1 << 24 });

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('scripts/gpu-check.sh', () => {
  it('explains itself and refuses unknown options', async () => {
    const help = await run('--help');
    expect(help.stdout).toMatch(/--small/);
    expect(help.stdout).toMatch(/under 10 min on one H100/);
    await expect(run('--bogus')).rejects.toMatchObject({ code: 2 });
  });

  it('runs the whole pipeline on the CPU with --small: both variants placed, benched and in agreement', { timeout: 240_000 }, async () => {
    const { stdout } = await run('--small', '--out', out, '--threads', '2');
    const summary = JSON.parse(stdout.trim().split('\n').pop()!);
    expect(summary).toMatchObject({ ok: true, provider: 'cpu', small: true, peak_fp16_tflops: null });
    expect(JSON.parse(readFileSync(join(out, 'gpu-check.json'), 'utf8'))).toEqual(summary);
    for (const variant of ['fp16', 'int4']) {
      expect(summary[variant].tokens_per_s).toBeGreaterThan(0);
      expect(summary[variant].heavy_nodes).toBeGreaterThan(0);
      expect(summary[variant].heavy_nodes_elsewhere).toBe(0);
      expect(summary.agreement[variant]).toMatchObject({ agree: true, a: { execution_provider: 'CPU', threads: 1 }, b: { threads: 2 } });
    }
    expect(summary.generate.bytes).toBeGreaterThan(0);
  });
});
