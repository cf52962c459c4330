import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { API, LedgerResponse, type Task } from '../../src-shared/protocol';
import { labelTask } from '../../src-validator/bench/sim/fake-teacher';
import { SimMiner } from '../../src-validator/bench/sim/sim-miner';
import { loadTokenizer } from '../../src-validator/tasks/default-tokenizer';
import type { Tokenizer } from '../../src-validator/tasks/tokenizer';
import { NyaProcess, ROOT } from '../browser/nya-process';
import { bundleOf, type LeaseBody } from './harness';

/**
 * `nya validator --teacher` with the demo model as its teacher, on the CPU: two colluding keys
 * (named by the operator, first seen together allowed) fill both replica slots of a task with the
 * same well-formed labels that are not the model's, so they agree; the audit re-computes a prefix
 * with the real teacher and catches both.
 */
const run = promisify(execFile);
const NYA = resolve(ROOT, 'bin/nya.cjs');
const DEMO = resolve(ROOT, 'dist/models/demo');

async function ledger(miner: SimMiner) {
  return LedgerResponse.parse((await miner.get(`${API.ledger}?limit=100`)).body).entries;
}

describe('nya validator --teacher', () => {
  let dataDir: string;
  let nya: NyaProcess | null = null;
  let tokenizer: Tokenizer;

  beforeAll(async () => {
    await cryptoWaitReady();
    dataDir = mkdtempSync(join(tmpdir(), 'nya-audit-cli-'));
    const shard = resolve(ROOT, 'dist/fineweb/sample-000.parquet');
    await run(process.execPath, [NYA, 'validator', 'ingest', shard, '--data-dir', dataDir, '--allow-demo'], { cwd: ROOT });
    tokenizer = await loadTokenizer(DEMO);
  });

  afterAll(async () => {
    await nya?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses a teacher that is not the accepted model', async () => {
    const refused = await run(
      process.execPath,
      [NYA, 'validator', '--data-dir', dataDir, '--teacher', DEMO, '--model-hash', 'ab'.repeat(32)],
      {
        cwd: ROOT,
      },
    ).catch((error: { code: number; stderr: string }) => error);
    expect('code' in refused && refused.code).toBe(2);
    expect(refused.stderr).toMatch(/the teacher in .* is model [0-9a-f]{12}…, not an accepted variant/);
  });

  it('audits a task whose two replicas agree and catches the colluding pair', async () => {
    const colluders = [0, 1].map((i) => SimMiner.fromSeed('http://127.0.0.1:1', 950 + i));
    nya = new NyaProcess([
      ...['validator', '--port', '0', '--data-dir', dataDir, '--allow-demo', '--teacher', DEMO, '--ep', 'cpu'],
      ...['--check-threads', '1', '--first-seen-apart-minutes', '0'],
      ...colluders.flatMap((m) => ['--established-key', m.address]),
    ]);
    const [, url] = (await nya.waitFor(/listening on (http:\/\/\S+)/))!;
    const [a, b] = colluders.map((_, i) => SimMiner.fromSeed(url!, 950 + i)) as [SimMiner, SimMiner];
    const leased = await a.lease<LeaseBody>({ maxTokens: 1500 });
    expect(leased.body.kind).toBe('task');
    const task = (leased.body as { task: Task }).task;
    const replica = await b.lease<LeaseBody>({ maxTokens: 1500 });
    expect(replica.body.kind === 'task' && replica.body.task.taskId).toBe(task.taskId);
    // Another model's labels, right shapes and checksums, identical from both keys.
    const fabricated = bundleOf(labelTask(task, task.modelHash, tokenizer, { variant: 7, temperature: 1.3 }));
    expect((await a.submit(task.taskId, fabricated)).status).toBe(200);
    const second = await b.submit<{ status: string }>(task.taskId, fabricated);
    expect(second.body.status).toBe('validated');

    // The per-key floor makes a key's first settled tasks certain to be audited.
    for (let i = 0; i < 600; i++) {
      if ((await ledger(a)).some((e) => e.taskId === task.taskId && e.status === 'rejected')) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    for (const m of [a, b]) {
      const entry = (await ledger(m)).find((e) => e.taskId === task.taskId);
      expect(entry).toMatchObject({ status: 'rejected', creditedNano: '0' });
      expect(entry!.reason).toMatch(/failed an audit of document \d+ \(first \d+ positions\)/);
    }
    expect(nya.stderr).toMatch(/teacher [0-9a-f]{12}… loaded/);
    expect(nya.stderr).toMatch(/audits 1 % of credited tokens/);
  }, 600_000);
});
