import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildSync } from 'esbuild';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteDriver } from '../../src-validator/store/sqlite-driver';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('SQLite checkpoints in a background thread', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  async function fill(driver: SqliteDriver): Promise<void> {
    await driver.exec('CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB NOT NULL)');
    for (let i = 0; i < 20; i++) {
      await driver.transaction(async (ex) => {
        for (let j = 0; j < 50; j++) await ex.run('INSERT INTO blobs (data) VALUES (?)', [Buffer.alloc(4096, i)]);
      });
    }
  }

  it('moves committed pages into the database file without any commit doing it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nya-ckpt-'));
    dirs.push(dir);
    const file = join(dir, 'db.sqlite');
    const warnings: string[] = [];
    const driver = new SqliteDriver(file, { backgroundCheckpoints: true, onWarning: (m) => warnings.push(m) });
    try {
      await fill(driver);
      // ~4 MB committed; with automatic checkpoints off, it is all still in the WAL.
      expect(statSync(file).size).toBeLessThan(1 << 20);
      const deadline = Date.now() + 5000;
      while (statSync(file).size < 4_000_000 && Date.now() < deadline) await sleep(100);
      expect(statSync(file).size).toBeGreaterThan(4_000_000);
      expect(await driver.all('SELECT COUNT(*) AS n FROM blobs')).toEqual([{ n: 1000 }]);
      expect(warnings).toEqual([]);
    } finally {
      await driver.close();
    }
  });

  it('leaves checkpointing to SQLite itself by default', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nya-ckpt-'));
    dirs.push(dir);
    const file = join(dir, 'db.sqlite');
    const driver = new SqliteDriver(file);
    try {
      await fill(driver);
      // The 1000-page automatic checkpoint ran inside one of the commits.
      expect(statSync(file).size).toBeGreaterThan(3_000_000);
    } finally {
      await driver.close();
    }
  });

  it('keeps a process that has nothing else to do alive until the checkpoint thread has stopped, so its shutdown finishes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nya-ckpt-'));
    dirs.push(dir);
    const root = resolve(__dirname, '../..');
    // A bundled child beside the project's node_modules (better-sqlite3 is resolved from there).
    mkdirSync(join(root, 'test-results'), { recursive: true });
    const child = join(root, 'test-results', `checkpointer-shutdown-${process.pid}.cjs`);
    dirs.push(child);
    buildSync({
      stdin: {
        contents: `import { SqliteDriver } from './src-validator/store/sqlite-driver';
          const driver = new SqliteDriver(process.argv[2], { backgroundCheckpoints: true });
          driver.exec('CREATE TABLE t (x)').then(() => driver.close()).then(() => console.log('closed'));`,
        resolveDir: root,
        loader: 'ts',
      },
      bundle: true,
      platform: 'node',
      format: 'cjs',
      outfile: child,
      external: ['better-sqlite3'],
      logLevel: 'silent',
    });
    const run = spawnSync(process.execPath, [child, join(dir, 'db.sqlite')], { encoding: 'utf8', timeout: 30_000 });
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe('closed');
  });
});
