import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { encodeResultBundle, encodeSoftLabels, type SoftLabels } from '../../src-node/soft-labels';
import { API, LedgerResponse, type Task } from '../../src-shared/protocol';
import { silentLogger } from '../../src-node/log';
import { startValidator, type RunningValidator, type ValidatorOptions } from '../../src-validator/index';
import { fakeTokenizer, labelTask, type FakeTeacherOptions } from '../../src-validator/bench/sim/fake-teacher';
import { SimMiner } from '../../src-validator/bench/sim/sim-miner';
import { mulberry32 } from '../../src-shared/prng';

export const MODEL_HASH = 'ab'.repeat(32);
export const OTHER_MODEL_HASH = 'cd'.repeat(32);
export const tokenizer = fakeTokenizer();

/** SQLite always; PostgreSQL too when NYA_TEST_DATABASE_URL is set (scripts/ci-postgres.sh). */
export const STORE_KINDS: ('sqlite' | 'postgres')[] = process.env.NYA_TEST_DATABASE_URL ? ['sqlite', 'postgres'] : ['sqlite'];

/**
 * Where the suites run: every store with checks on the event loop's thread, and SQLite with the
 * worker-thread check pool as `nya validator` runs it (the built dist/main/check-worker.cjs;
 * `npm test` builds first).
 */
export const SETUPS: { name: string; kind: 'sqlite' | 'postgres'; opts: Partial<ValidatorOptions> }[] = [
  ...STORE_KINDS.map((kind) => ({ name: kind, kind, opts: {} })),
  { name: 'sqlite with check threads', kind: 'sqlite', opts: { checkThreads: 2 } },
];

/** A seeded PRNG, so adaptive checks are reproducible. */
export const seededRandom = mulberry32;

const WORDS = 'the cat sat on a mat while rain fell over quiet hills and rivers ran toward distant seas under grey skies'.split(' ');

export function documents(count: number, prefix = 'doc', words = 40): { docId: string; url: string; text: string }[] {
  const rand = seededRandom(count * 31 + prefix.length);
  return Array.from({ length: count }, (_, i) => ({
    docId: `<urn:uuid:${prefix}-${i}>`,
    url: `https://example.org/${prefix}/${i}`,
    text:
      Array.from({ length: words + Math.floor(rand() * 20) }, () => WORDS[Math.floor(rand() * WORDS.length)]).join(' ') + ` ${prefix}${i}`,
  }));
}

export interface Harness {
  validator: RunningValidator;
  dataDir: string;
  clock: { now: number };
  miner(seed: number): SimMiner;
  close(): Promise<void>;
}

export async function freshPostgresDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const base = process.env.NYA_TEST_DATABASE_URL!;
  const name = `nya_test_${process.pid}_${Math.floor(Math.random() * 1e9)}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

let testKeys: string[] | null = null;

/**
 * The addresses of `h.miner(seed)` for the seeds tests use (below 700), which the harness seeds as
 * established, with the first-seen window off: most suites test checks between miners, not who
 * may check whom (collusion.test.ts tests that, with its own rules and no seeds).
 */
async function establishedTestKeys(): Promise<string[]> {
  await cryptoWaitReady();
  return (testKeys ??= Array.from({ length: 700 }, (_, seed) => SimMiner.fromSeed('http://127.0.0.1:1', seed).address));
}

export async function startHarness(kind: 'sqlite' | 'postgres', opts: Partial<ValidatorOptions> = {}): Promise<Harness> {
  const establishedKeys = await establishedTestKeys();
  const dataDir = mkdtempSync(join(tmpdir(), 'nya-validator-'));
  const clock = { now: 1_760_000_000_000 };
  const db = kind === 'postgres' ? await freshPostgresDatabase() : null;
  const validator = await startValidator({
    port: 0,
    dataDir,
    databaseUrl: db?.url ?? null,
    ...(opts.variants ? {} : { modelHash: MODEL_HASH }),
    seqLen: 64,
    k: 16,
    log: { ...silentLogger, error: (m: string) => console.error(`validator: ${m}`) },
    tokenizer: async () => tokenizer,
    clock: () => clock.now,
    random: seededRandom(7),
    establishedKeys,
    replicaRules: { firstSeenApartMs: 0 },
    ...opts,
  });
  return {
    validator,
    dataDir,
    clock,
    miner: (seed) => SimMiner.fromSeed(validator.url, seed, () => clock.now),
    async close() {
      await validator.close();
      await db?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export type LeaseBody = { kind: 'task'; task: Task } | { kind: 'no-work'; retryAfterMs: number };

export function bundleOf(labels: SoftLabels[]): Uint8Array {
  return encodeResultBundle(labels.map((l) => encodeSoftLabels(l)));
}

/** An honest miner's answer: the fake teacher with its own small fp16-like jitter. */
export function honestLabels(task: Task, seed: number, extra: Omit<FakeTeacherOptions, 'k'> = {}): SoftLabels[] {
  return labelTask(task, task.modelHash, tokenizer, { noise: 0.01, noiseSeed: seed, ...extra });
}

export async function leaseTask(miner: SimMiner, req: Record<string, unknown> = { maxTokens: 400 }): Promise<Task> {
  const res = await miner.lease<LeaseBody>(req);
  if (res.status !== 200 || res.body.kind !== 'task') throw new Error(`expected a task, got ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.task;
}

/** A key with a long streak: its tasks go unreplicated and settle on arrival (docs/PROTOCOL.md, adaptive replication). */
export async function longStreak(h: Harness, miner: { address: string }): Promise<void> {
  await h.validator.store.transaction(async (tx) => {
    await tx.upsertMiner(miner.address, { nowMs: h.clock.now });
    await tx.updateMinerCounters(miner.address, { streak: 1_000_000, validatedTokens: 0, rejectedTokens: 0 });
  });
}

/** The statuses of a miner's results, newest first, as its ledger shows them. */
export async function ledgerStatuses(miner: SimMiner): Promise<string[]> {
  return LedgerResponse.parse((await miner.get(`${API.ledger}?limit=500`)).body).entries.map((e) => e.status);
}
