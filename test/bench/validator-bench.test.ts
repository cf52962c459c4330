import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { loopDelayP99Ms } from '../../src-validator/bench/sim/bench-client';
import { Bundler } from '../../src-validator/bench/sim/bundler-thread';

const ROOT = resolve(__dirname, '../..');
const NYA = resolve(ROOT, 'dist/main/nya.cjs');

describe('nya bench validator', () => {
  // A smoke run: the figures are the benchmark's business (docs/PERFORMANCE.md), not a test's.
  it('runs miners, the bundler thread and the check threads end to end and reports one JSON line', async () => {
    expect(existsSync(NYA), 'dist/main/nya.cjs is built by npm test').toBe(true);
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [NYA, 'bench', 'validator', '--json', '--seconds', '2', '--miners', '4', '--docs-per-task', '2'],
      {
        cwd: ROOT,
        timeout: 120_000,
      },
    );
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(result).toMatchObject({
      suite: 'validator',
      store: 'sqlite',
      miners: 4,
      docs_per_task: 2,
      rejected: 0,
      errors: 0,
      check_threads: expect.any(Number),
    });
    for (const key of ['submissions_per_s', 'validated_tokens_per_s', 'p99_ms', 'server_p99_ms']) expect(result[key]).toBeGreaterThan(0);
    for (const key of ['server_loop_delay_p99_ms', 'client_loop_delay_p99_ms']) expect(result[key]).toBeGreaterThanOrEqual(0);
  }, 150_000);

  it('reports how late an event loop ran its 1 ms timer, past the 1 ms', async () => {
    const histogram = monitorEventLoopDelay({ resolution: 1 });
    expect(loopDelayP99Ms(histogram)).toBe(0);
    histogram.enable();
    const block = (ms: number) => {
      const until = performance.now() + ms;
      while (performance.now() < until);
    };
    // A few dozen idle ticks, then the loop held for 40 ms at a time: more than 1 % of the samples.
    await new Promise((r) => setTimeout(r, 30));
    for (let i = 0; i < 3; i++) {
      block(40);
      await new Promise((r) => setTimeout(r, 2));
    }
    histogram.disable();
    expect(loopDelayP99Ms(histogram)).toBeGreaterThan(30);
    expect(loopDelayP99Ms(histogram)).toBeLessThan(200);
  });
});

describe('nya bench validator, interrupted', () => {
  it('removes its data folder when stopped mid-run', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'nya-bench-interrupt-'));
    try {
      const run = spawn(process.execPath, [NYA, 'bench', 'validator', '--seconds', '10', '--miners', '2', '--docs-per-task', '1'], {
        cwd: ROOT,
        env: { ...process.env, TMPDIR: tmp },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      // Stopped once the simulated miners are running: the folder then holds the database and result files.
      await new Promise<void>((started) => run.stdout.on('data', (d: Buffer) => (out += d.toString()).includes('miners,') && started()));
      expect(readdirSync(tmp).filter((f) => f.startsWith('nya-bench-validator-'))).toHaveLength(1);
      const exited = new Promise<number | null>((done) => run.on('exit', (code) => done(code)));
      run.kill('SIGTERM');
      expect(await exited).toBe(143);
      expect(readdirSync(tmp).filter((f) => f.startsWith('nya-bench-validator-'))).toEqual([]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 90_000);
});

describe("the simulators' bundler thread", () => {
  it('builds the bundle a lease answer asks for, answers null for no work and refuses what is not a lease answer', async () => {
    const bundler = new Bundler(NYA, ['bench', 'validator', '--bench-bundler-thread'], 'b'.repeat(64));
    try {
      await bundler.ready;
      const answer = (value: unknown) => Buffer.from(JSON.stringify(value));
      const task = {
        taskId: 't-0123456789abcdef01234567',
        k: 16,
        seqLen: 1024,
        modelHash: 'b'.repeat(64),
        deadlineAtMs: 1,
        tokens: 2046,
        documents: [
          { docId: '<urn:uuid:a>', text: 'w1 w2 w3' },
          { docId: '<urn:uuid:b>', text: 'w4 w5' },
        ],
      };
      const built = await bundler.build(0, answer({ kind: 'task', task }), null);
      expect(built).toMatchObject({ taskId: task.taskId, tokens: 2046, sha256Hex: expect.stringMatching(/^[0-9a-f]{64}$/) });
      expect(built!.length).toBeGreaterThan(12);
      expect(await bundler.build(0, answer({ kind: 'no-work', retryAfterMs: 5 }), null)).toBeNull();
      await expect(bundler.build(0, Buffer.from('<html>busy</html>'), null)).rejects.toThrow(/not a LeaseResponse: <html>busy/);
      await expect(bundler.build(0, answer({ kind: 'task' }), null)).rejects.toThrow(/not a LeaseResponse/);
    } finally {
      await bundler.close();
    }
  }, 60_000);
});

describe('nya bench checks', () => {
  it('runs the check jobs on bundles that pass and reports their CPU time as one JSON line', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [NYA, 'bench', 'checks', '--json', '--docs-per-task', '2', '--rounds', '2'],
      { cwd: ROOT, timeout: 60_000 },
    );
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(result).toMatchObject({ suite: 'checks', docs_per_task: 2, rounds: 2 });
    for (const key of ['body_bytes', 'first_ms', 'second_ms', 'compare_ms']) expect(result[key]).toBeGreaterThan(0);
  }, 90_000);

  it('refuses a bad option with a usage error', async () => {
    const failed = await promisify(execFile)(process.execPath, [NYA, 'bench', 'checks', '--rounds', 'many'], { cwd: ROOT }).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(failed).toMatchObject({ code: 2, stderr: expect.stringMatching(/--rounds takes a non-negative number/) });
  });
});
