import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BlobFiles } from '../../src-validator/store/blob-files';
import { firstValueOfBinaryCopy, PostgresDriver } from '../../src-validator/store/postgres-driver';
import type { SqlDriver, SqlExecutor, SqlValue } from '../../src-validator/store/sql-driver';
import { openSqlStore } from '../../src-validator/store/sql-store';
import { SqliteDriver } from '../../src-validator/store/sqlite-driver';
import type { ResultRow, Store } from '../../src-validator/store/store';
import { freshPostgresDatabase, MODEL_HASH, STORE_KINDS } from './harness';

/** Every value bound to a statement, so a test can say which bytes reached the database. */
function recording(driver: SqlDriver, bound: SqlValue[]): SqlDriver {
  const wrap = (ex: SqlExecutor): SqlExecutor => ({
    all: (sql, params = []) => (bound.push(...params), ex.all(sql, params)),
    run: (sql, params = []) => (bound.push(...params), ex.run(sql, params)),
    bytes: (sql, params = []) => (bound.push(...params), ex.bytes(sql, params)),
  });
  return {
    dialect: driver.dialect,
    ...wrap(driver),
    transaction: (fn) => driver.transaction((ex) => fn(wrap(ex))),
    exclusiveTransaction: (fn) => driver.exclusiveTransaction((ex) => fn(wrap(ex))),
    createSchema: (script, incompressible) => driver.createSchema(script, incompressible),
    exec: (script) => driver.exec(script),
    close: () => driver.close(),
  };
}

const SETUPS = [
  ...STORE_KINDS.map((kind) => ({ name: `${kind}, bodies in the database`, kind, files: false })),
  { name: 'sqlite, bodies as files', kind: 'sqlite' as const, files: true },
];

/** Bytes as text, so a mismatch is one cheap comparison (and Buffer and Uint8Array compare equal). */
const hex = (bytes: Uint8Array | null) =>
  bytes === null ? null : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');

const result = (taskId: string, miner: string): ResultRow => ({
  taskId,
  miner,
  submittedAtMs: 1,
  bodySha256: '00',
  tokens: 10,
  status: 'pending',
  reason: null,
  epoch: null,
  unverified: false,
  responseJson: '{}',
  bodyKept: true,
});

describe.each(SETUPS)('result bodies on $name', ({ kind, files }) => {
  let cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const done of cleanup.reverse()) await done();
    cleanup = [];
  });

  async function open(bound: SqlValue[]): Promise<{ store: Store; blobDir: string }> {
    const dir = mkdtempSync(join(tmpdir(), 'nya-bodies-'));
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    let driver: SqlDriver;
    if (kind === 'postgres') {
      const db = await freshPostgresDatabase();
      cleanup.push(db.drop);
      driver = new PostgresDriver(db.url);
    } else driver = new SqliteDriver(join(dir, 'validator.sqlite'));
    const blobDir = join(dir, 'results');
    const store = await openSqlStore(recording(driver, bound), files ? new BlobFiles(blobDir) : null);
    cleanup.push(() => store.close());
    await store.transaction((tx) =>
      tx.insertTask(
        { taskId: 't1', createdAtMs: 1, k: 16, seqLen: 64, modelHash: MODEL_HASH, tokens: 10, quorum: 2, state: 'open' },
        'teacher',
        [],
      ),
    );
    return { store, blobDir };
  }

  it('writes only the copy that is kept: a body dropped in its own transaction never reaches the store', async () => {
    const bound: SqlValue[] = [];
    const { store, blobDir } = await open(bound);
    const kept = new Uint8Array(300_000).fill(7);
    const dropped = new Uint8Array(300_000).fill(9);
    await store.transaction(async (tx) => {
      await tx.insertResult(result('t1', 'a'), kept);
      await tx.insertResult(result('t1', 'b'), dropped);
      // Before the commit both count as kept, and each reads back as itself.
      expect((await tx.resultsOfTask('t1')).map((r) => [r.miner, r.bodyKept])).toEqual([
        ['a', true],
        ['b', true],
      ]);
      expect(hex(await tx.resultBody('t1', 'b'))).toBe(hex(dropped));
      await tx.dropResultBody('t1', 'b');
      expect(await tx.resultBody('t1', 'b')).toBeNull();
      expect(hex(await tx.resultBody('t1', 'a'))).toBe(hex(kept));
    });
    const wrote = (bytes: Uint8Array) => bound.some((v) => v instanceof Uint8Array && v.length === bytes.length && v[0] === bytes[0]);
    expect(wrote(dropped)).toBe(false);
    expect(wrote(kept)).toBe(!files);
    if (files) expect(readdirSync(blobDir, { recursive: true, withFileTypes: true }).filter((f) => f.isFile())).toHaveLength(1);
    expect(hex(await store.transaction((tx) => tx.resultBody('t1', 'a')))).toBe(hex(kept));
    expect(await store.transaction((tx) => tx.resultBody('t1', 'b'))).toBeNull();
    expect((await store.transaction((tx) => tx.resultsOfTask('t1'))).map((r) => [r.miner, r.bodyKept])).toEqual([
      ['a', true],
      ['b', false],
    ]);
    expect((await store.validatedResults(null, 10)).length).toBe(0);
  });

  it('keeps nothing of a transaction that fails after writing a body', async () => {
    const { store } = await open([]);
    const body = new Uint8Array(1000).fill(3);
    await expect(
      store.transaction(async (tx) => {
        await tx.insertResult(result('t1', 'a'), body);
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    expect(await store.transaction((tx) => tx.resultsOfTask('t1'))).toEqual([]);
    await store.transaction((tx) => tx.insertResult(result('t1', 'a'), body));
    expect(hex(await store.transaction((tx) => tx.resultBody('t1', 'a')))).toBe(hex(body));
  });
});

describe.each(STORE_KINDS)('reading bytes on %s', (kind) => {
  let driver: SqlDriver;
  let done: () => Promise<void>;
  afterEach(async () => {
    await driver.close();
    await done();
  });

  async function open(): Promise<SqlDriver> {
    if (kind === 'postgres') {
      const db = await freshPostgresDatabase();
      done = db.drop;
      driver = new PostgresDriver(db.url);
    } else {
      const dir = mkdtempSync(join(tmpdir(), 'nya-bytes-'));
      done = async () => rmSync(dir, { recursive: true, force: true });
      driver = new SqliteDriver(join(dir, 'bytes.sqlite'));
    }
    await driver.exec('CREATE TABLE t (k TEXT PRIMARY KEY, n INTEGER, v {blob})');
    return driver;
  }

  it('gives a value back byte for byte, null for NULL or no row, with text parameters quoted', async () => {
    await open();
    const big = new Uint8Array(2_000_003).map((_, i) => (i * 7919) % 256);
    const awkward = "it's a \\ 'key' — é";
    await driver.run('INSERT INTO t (k, n, v) VALUES (?, ?, ?), (?, ?, ?), (?, ?, ?)', [
      awkward,
      1,
      big,
      'empty',
      2,
      new Uint8Array(0),
      'null',
      3,
      null,
    ]);
    expect(hex(await driver.bytes('SELECT v FROM t WHERE k = ? AND n = ?', [awkward, 1]))).toBe(hex(big));
    expect(hex(await driver.bytes('SELECT v FROM t WHERE k = ?', ['empty']))).toBe('');
    expect(await driver.bytes('SELECT v FROM t WHERE k = ?', ['null'])).toBeNull();
    expect(await driver.bytes('SELECT v FROM t WHERE k = ?', ["nobody' OR '1'='1"])).toBeNull();
    // Inside a transaction, it sees the transaction's own writes.
    const seen = await driver.transaction(async (ex) => {
      await ex.run('UPDATE t SET v = ? WHERE k = ?', [new Uint8Array([1, 2, 3]), 'null']);
      return ex.bytes('SELECT v FROM t WHERE k = ?', ['null']);
    });
    expect(hex(seen)).toBe('010203');
  });

  it('fails a bad query with the database error and stays usable', async () => {
    await open();
    await expect(driver.bytes('SELECT nothing FROM t WHERE k = ?', ['x'])).rejects.toThrow(/nothing/);
    await expect(driver.transaction((ex) => ex.bytes('SELECT v FROM missing'))).rejects.toThrow(/missing/);
    await driver.run('INSERT INTO t (k, n, v) VALUES (?, ?, ?)', ['a', 1, new Uint8Array([9])]);
    expect(hex(await driver.bytes('SELECT v FROM t WHERE k = ?', ['a']))).toBe('09');
  });
});

describe('binary COPY stream', () => {
  const header = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);
  const row = (value: Buffer | null) => {
    const head = Buffer.alloc(6);
    head.writeInt16BE(1, 0);
    head.writeInt32BE(value ? value.length : -1, 2);
    return Buffer.concat([head, value ?? Buffer.alloc(0)]);
  };
  const end = Buffer.from([0xff, 0xff]);

  it('reads the first field of the first row, and refuses what is not a whole stream', () => {
    expect(hex(firstValueOfBinaryCopy(Buffer.concat([header, row(Buffer.from('abc')), end])))).toBe(hex(Buffer.from('abc')));
    expect(firstValueOfBinaryCopy(Buffer.concat([header, row(null), end]))).toBeNull();
    expect(firstValueOfBinaryCopy(Buffer.concat([header, end]))).toBeNull();
    expect(() => firstValueOfBinaryCopy(Buffer.from('COPY'))).toThrow('not a binary COPY stream');
    expect(() => firstValueOfBinaryCopy(Buffer.concat([header, row(Buffer.from('abcdef')).subarray(0, 9)]))).toThrow('past the end');
  });
});
