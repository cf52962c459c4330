import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NyaProcess } from '../browser/nya-process';

/**
 * `nya mine` in states where it cannot mine: it must exit (78, EX_CONFIG) with the command that
 * fixes it, not log one line and sit silent. An unreachable validator is not such a state: it is
 * retried.
 */
const PASS = { NYA_WALLET_PASSPHRASE: 'correct horse battery staple' };
const root = mkdtempSync(join(tmpdir(), 'nya-cannot-mine-'));
const running: NyaProcess[] = [];
const servers: Server[] = [];

afterAll(async () => {
  await Promise.all(running.map((p) => p.stop('SIGKILL')));
  for (const s of servers) s.close();
  rmSync(root, { recursive: true, force: true });
});

let dirs = 0;
const freshDir = () => join(root, `data-${++dirs}`);

function mine(args: string[], env: Record<string, string> = {}, dataDir = freshDir()) {
  const p = new NyaProcess(['mine', '--dashboard-port', '0', '--data-dir', dataDir, ...args], env);
  running.push(p);
  return p;
}

const exitOf = (p: NyaProcess) =>
  p.child.exitCode !== null ? Promise.resolve(p.child.exitCode) : new Promise<number | null>((done) => p.child.once('exit', done));

async function walletCreate(dataDir: string): Promise<void> {
  const p = new NyaProcess(['wallet', 'create', '--data-dir', dataDir], PASS);
  running.push(p);
  expect(await exitOf(p), p.stderr).toBe(0);
}

/** A validator that answers every request as one running another model would. */
async function wrongModelValidator(): Promise<string> {
  const server = createServer((req, res) => {
    // A validator that offers no teacher download: the miner keeps its own model and leases.
    if (req.url === '/v1/model') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'not-found', message: 'no such endpoint' } }));
      return;
    }
    res.writeHead(409, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({ error: { code: 'wrong-model', message: 'This validator accepts labels from model abc; the miner runs def.' } }),
    );
  });
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('nya mine that cannot mine', () => {
  it('exits 78 for a model folder that does not exist and says to leave out --model', async () => {
    const p = mine(['--model', join(root, 'no-such-model')]);
    expect(await exitOf(p)).toBe(78);
    expect(p.stderr).toMatch(/no-such-model cannot be used/);
    expect(p.stderr).toMatch(/leave out --model to mine with the bundled demo model/);
  });

  it('exits 78 for a model file that is not a model', async () => {
    const dir = join(root, 'garbage-model');
    mkdirSync(dir);
    writeFileSync(join(dir, 'model.onnx'), 'not a protobuf at all');
    const p = mine(['--model', dir]);
    expect(await exitOf(p)).toBe(78);
    expect(p.stderr).toMatch(/garbage-model cannot be used/);
  });

  it('exits 78 for a remote validator without a mining key and names `nya wallet create`', async () => {
    const p = mine(['--validator', 'http://127.0.0.1:9'], PASS);
    expect(await exitOf(p)).toBe(78);
    expect(p.stderr).toMatch(/No mining key yet/);
    expect(p.stderr).toMatch(/NYA_WALLET_PASSPHRASE=\.\.\. nya wallet create/);
  });

  it('exits 78 when the key exists but no passphrase opens it', async () => {
    const dataDir = freshDir();
    await walletCreate(dataDir);
    const p = mine(['--validator', 'http://127.0.0.1:9'], { NYA_WALLET_PASSPHRASE: '' }, dataDir);
    expect(await exitOf(p)).toBe(78);
    expect(p.stderr).toMatch(/needs your mining key: set NYA_WALLET_PASSPHRASE/);
    const wrong = mine(['--validator', 'http://127.0.0.1:9'], { NYA_WALLET_PASSPHRASE: 'not the passphrase' }, dataDir);
    expect(await exitOf(wrong)).toBe(78);
    expect(wrong.stderr).toMatch(/passphrase is wrong/);
  });

  it('exits 78 when the validator wants another model and says how to get it', async () => {
    const dataDir = freshDir();
    await walletCreate(dataDir);
    const p = mine(['--validator', await wrongModelValidator()], PASS, dataDir);
    expect(await exitOf(p)).toBe(78);
    expect(p.stderr).toMatch(/accepts labels from model abc/);
    expect(p.stderr).toMatch(/nya model download VARIANT/);
  });

  it('keeps running and retries when the validator is unreachable at start', async () => {
    const dataDir = freshDir();
    await walletCreate(dataDir);
    const p = mine(['--validator', 'http://127.0.0.1:9'], PASS, dataDir);
    await p.waitFor(/^dashboard: /m);
    // With no model of its own the miner first asks the validator for its teacher, and retries that.
    await eventuallyIn(() => /\[models\] could not get the teacher \(.*\); trying again in \d+ s/.test(p.stderr), p);
    expect(p.child.exitCode).toBeNull();
    expect(await p.stop()).toBe(0);
  });
});

/** Waits for `fact` about the process's output; fails with the output if it exits first. */
async function eventuallyIn(fact: () => boolean, p: NyaProcess): Promise<void> {
  while (!fact()) {
    if (p.child.exitCode !== null) throw new Error(`nya exited (${p.child.exitCode}):\n${p.stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
