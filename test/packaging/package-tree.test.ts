import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * A real electron-builder run (Linux `dir` target) over the built app, asserting the tree it
 * writes. Electron's binary cannot be downloaded here, so `electronDist` is a stand-in: a shell
 * script named `electron` that runs this Node, carrying a fuse wire for @electron/fuses to flip.
 * What the load check proves: the packaged tree alone (asar contents plus app.asar.unpacked) holds
 * every file the native modules' loaders and their run-time dependencies need, with Linux x64
 * binaries that load. What it does not: loading under Electron's own ABI (electron-builder's
 * npmRebuild, skipped here, rebuilds better-sqlite3 for it; onnxruntime-node is N-API), nor
 * Electron's reading through the archive.
 */
const root = resolve(__dirname, '../..');
const builderCli = join(root, 'packaging/node_modules/electron-builder/cli.js');
const run = promisify(execFile);

function missingPrerequisite(): string | null {
  if (!existsSync(builderCli)) return 'packaging tools not installed (npm ci --prefix packaging)';
  if (!existsSync(join(root, 'dist/main/electron-main.cjs'))) return 'the app is not built (npm run build)';
  return null;
}
const skip = missingPrerequisite();
if (skip) console.warn(`package tree test skipped: ${skip}`);

const packagingRequire = createRequire(join(root, 'packaging/package.json'));
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the builder's YAML, read freely
const config = parse(readFileSync(join(root, 'electron-builder.yml'), 'utf8')) as Record<string, any>;

const FUSE_SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
/** @electron/fuses' FuseV1Options order. */
const FUSE_ORDER = [
  'runAsNode',
  'enableCookieEncryption',
  'enableNodeOptionsEnvironmentVariable',
  'enableNodeCliInspectArguments',
  'enableEmbeddedAsarIntegrityValidation',
  'onlyLoadAppFromAsar',
  'loadBrowserProcessSpecificV8Snapshot',
  'grantFileProtocolExtraPrivileges',
];
/** Added to a Linux release by docs/PACKAGING.md's CUDA step; not counted in the size budget. */
const CUDA_FILE = /\/libonnxruntime_providers_(cuda|shared|tensorrt)\.so$/;

/** The packages the app loads at run time, and the dependencies they load. */
const RUNTIME_PACKAGES = [
  'better-sqlite3',
  'bindings',
  'file-uri-to-path',
  'onnxruntime-common',
  'onnxruntime-node',
  // Opt-in Weights & Biases logging (Settings), imported on first use, and what it imports.
  '@wandb/sdk',
  '@graphql-typed-document-node/core',
  'graphql',
  'graphql-request',
  'extract-files',
  'cross-fetch',
  'node-fetch',
  'whatwg-url',
  'tr46',
  'webidl-conversions',
  'form-data',
  'asynckit',
  'combined-stream',
  'delayed-stream',
  'mime-types',
  'mime-db',
  'es-set-tostringtag',
  'has-tostringtag',
  'has-symbols',
  'hasown',
  'function-bind',
  'get-intrinsic',
  'get-proto',
  'dunder-proto',
  'gopd',
  'es-errors',
  'es-define-property',
  'es-object-atoms',
  'call-bind-apply-helpers',
  'math-intrinsics',
  'async-function',
  'async-generator-function',
  'generator-function',
];

/** Every file of the app outside node_modules, as patterns. */
const APP_FILES = [
  /^package\.json$/,
  /^dist\/main\/(electron-main|preload|teacher-worker|check-worker)\.cjs$/,
  /^dist\/renderer\/index\.html$/,
  /^dist\/renderer\/assets\/[\w-]+\.(js|css)$/,
  /^dist\/link-page\/link-page\.js$/,
  /^dist\/models\/demo\/(config\.json|model\.onnx|model\.onnx_data|nya-demo-model\.json)$/,
  /^dist\/fineweb\/sample-000\.parquet$/,
  /^assets\/icons\/[\w@.-]+\.(png|ico)$/,
  /^assets\/tokenizer\/mistral-v3\/[\w.-]+\.json$/,
];

/** The part of @electron/asar used here (it lives in packaging/, outside the root's types). */
interface AsarReader {
  listPackage(archive: string, options: { isPack: boolean }): string[];
  statFile(archive: string, filename: string): object;
  extractAll(archive: string, dest: string): void;
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

function packageRoots(files: string[]): string[] {
  const roots = new Set<string>();
  for (const file of files) {
    const m = /^(?:.*\/)?node_modules\/((?:@[^/]+\/)?[^/]+)\/package\.json$/.exec(file);
    if (m && !file.slice(0, -'package.json'.length).includes('/node_modules/' + m[1] + '/node_modules/')) roots.add(m[1]!);
  }
  return [...roots].sort();
}

/** The size budget stated in docs/PACKAGING.md, the one place it is written. */
function sizeBudgetMb(): number {
  const m = /size budget[^\n]*?\*\*(\d+) MB\*\*/i.exec(readFileSync(join(root, 'docs/PACKAGING.md'), 'utf8'));
  if (!m) throw new Error('docs/PACKAGING.md states no size budget ("Size budget: **N MB**")');
  return Number(m[1]);
}

function elfMachine(path: string): number {
  const head = readFileSync(path).subarray(0, 20);
  expect(head.subarray(0, 4).toString('latin1'), path).toBe('\x7fELF');
  return head.readUInt16LE(18);
}

/** A folder shaped like an unpacked Linux Electron distribution, its executable a Node launcher. */
function standInElectronDist(dir: string): void {
  mkdirSync(join(dir, 'resources'), { recursive: true });
  const wire = Buffer.concat([Buffer.from(FUSE_SENTINEL), Buffer.from([1, FUSE_ORDER.length]), Buffer.from('1'.repeat(FUSE_ORDER.length))]);
  const script = Buffer.concat([Buffer.from('#!/bin/sh\n# '), wire, Buffer.from(`\nexec '${process.execPath}' "$@"\n`)]);
  writeFileSync(join(dir, 'electron'), script);
  chmodSync(join(dir, 'electron'), 0o755);
  writeFileSync(join(dir, 'LICENSE'), 'Stand-in for the Electron distribution (test/packaging/package-tree.test.ts).\n');
}

describe.skipIf(skip)('the Linux package electron-builder writes (dir target, stand-in Electron)', () => {
  const work = mkdtempSync(join(tmpdir(), 'nya-package-'));
  const appOut = join(work, 'out/linux-unpacked');
  const resources = join(appOut, 'resources');
  const extracted = join(work, 'app');
  let asarFiles: string[] = [];
  let unpackedFiles: string[] = [];

  beforeAll(async () => {
    standInElectronDist(join(work, 'electron-dist'));
    // The real entry (electron-builder.yml through build/installer-config.cjs), offline: the stand-in
    // instead of a download, and no rebuild against Electron's headers.
    const configFile = join(work, 'installer-config.cjs');
    const overrides = { electronDist: join(work, 'electron-dist'), npmRebuild: false, directories: { output: join(work, 'out') } };
    writeFileSync(
      configFile,
      `const c = require(${JSON.stringify(join(root, 'build/installer-config.cjs'))});\n` +
        `module.exports = { ...c, ...${JSON.stringify(overrides)}, directories: { ...c.directories, ...${JSON.stringify(overrides.directories)} } };\n`,
    );
    const args = [builderCli, '--linux', 'dir', '--x64', '--projectDir', root, '--config', configFile];
    const env = { ...process.env, NYA_PACKAGE_CPU_ONLY: '1', CSC_IDENTITY_AUTO_DISCOVERY: 'false' };
    try {
      await run(process.execPath, args, { cwd: root, env, timeout: 150_000, maxBuffer: 16 * 1024 * 1024 });
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string };
      throw new Error(`electron-builder failed:\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
    }
    const asar = packagingRequire('@electron/asar') as AsarReader;
    const archive = join(resources, 'app.asar');
    asarFiles = asar
      .listPackage(archive, { isPack: false })
      .map((entry) =>
        entry
          .replace(/^[\\/]/, '')
          .split('\\')
          .join('/'),
      )
      .filter((entry) => 'size' in asar.statFile(archive, entry));
    unpackedFiles = walk(join(resources, 'app.asar.unpacked')).map((f) => relative(join(resources, 'app.asar.unpacked'), f));
    asar.extractAll(archive, extracted);
  }, 180_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('holds only the run-time app files: no source maps, no CLI bundle, no build tools', () => {
    const appFiles = asarFiles.filter((f) => !f.startsWith('node_modules/'));
    for (const file of appFiles)
      expect(
        APP_FILES.some((p) => p.test(file)),
        file,
      ).toBe(true);
    for (const required of [
      'dist/main/electron-main.cjs',
      'dist/main/preload.cjs',
      'dist/main/teacher-worker.cjs',
      'dist/renderer/index.html',
    ]) {
      expect(appFiles, required).toContain(required);
    }
    expect(asarFiles.filter((f) => f.endsWith('.map'))).toEqual([]);
  });

  it('carries exactly the run-time packages, none of the bundled ones nor the install-time helpers', () => {
    expect(packageRoots(asarFiles)).toEqual([...RUNTIME_PACKAGES].sort());
    const packed = new Set(asarFiles);
    for (const gone of ['react', '@polkadot/api', 'smoldot', '@substrate/connect', 'prebuild-install', 'global-agent', 'adm-zip']) {
      expect(packed.has(`node_modules/${gone}/package.json`), gone).toBe(false);
    }
    expect(asarFiles.filter((f) => /node_modules\/better-sqlite3\/(deps|src)\//.test(f))).toEqual([]);
  });

  it("unpacks the native code beside its loaders: ONNX Runtime's Linux x64 files, better-sqlite3's addon, the demo model", () => {
    const native = unpackedFiles.filter((f) => /\.(node|so(\.\d+)*)$/.test(f) && !CUDA_FILE.test(`/${f}`)).sort();
    expect(native).toEqual([
      'node_modules/better-sqlite3/build/Release/better_sqlite3.node',
      'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1',
      'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node',
    ]);
    expect(unpackedFiles).toContain('dist/models/demo/model.onnx_data');
  });

  it("has no other platform's binaries, and every native file is x86-64 ELF", () => {
    const everything = [...asarFiles, ...unpackedFiles, ...walk(appOut).map((f) => relative(appOut, f))];
    expect(everything.filter((f) => /\.(dll|dylib|exe|pdb)$|\/(darwin|win32)\/|\/arm64\//.test(f))).toEqual([]);
    for (const file of unpackedFiles.filter((f) => /\.(node|so(\.\d+)*)$/.test(f))) {
      expect(elfMachine(join(resources, 'app.asar.unpacked', file)), file).toBe(0x3e);
    }
  });

  it('carries no GPL-licensed code: no GPL licence text, no package under a GPL licence', () => {
    const files = [...walk(extracted), ...walk(appOut)];
    const gpl = /GNU (AFFERO |LESSER )?GENERAL PUBLIC LICENSE/;
    expect(files.filter((f) => gpl.test(readFileSync(f, 'latin1'))).map((f) => relative(work, f))).toEqual([]);
    for (const manifest of files.filter((f) => /node_modules\/(@[^/]+\/)?[^/]+\/package\.json$/.test(f))) {
      const license = (JSON.parse(readFileSync(manifest, 'utf8')) as { license?: string }).license ?? '';
      expect(license, relative(work, manifest)).toMatch(/^\(?(MIT|ISC|Apache-2\.0|BSD-[23]-Clause)( OR (MIT|Apache-2\.0))?\)?$/);
    }
  });

  it('stays within the size budget in docs/PACKAGING.md (without the CUDA provider files)', () => {
    const ownFiles = walk(appOut).filter((f) => !CUDA_FILE.test(f) && !['nya-miner', 'LICENSE.electron.txt'].includes(relative(appOut, f)));
    const mb = ownFiles.reduce((sum, f) => sum + statSync(f).size, 0) / 1e6;
    console.log(`package size without Electron and the CUDA files: ${mb.toFixed(1)} MB (budget ${sizeBudgetMb()} MB)`);
    expect(mb).toBeLessThanOrEqual(sizeBudgetMb());
  });

  it('flips every fuse electron-builder.yml sets in the executable', () => {
    const exe = readFileSync(join(appOut, config.linux.executableName as string));
    const at = exe.indexOf(FUSE_SENTINEL) + FUSE_SENTINEL.length;
    const wire = exe.subarray(at + 2, at + 2 + FUSE_ORDER.length).toString('latin1');
    expect(wire).toBe(FUSE_ORDER.map((name) => (config.electronFuses[name] ? '1' : '0')).join(''));
  });

  it('writes the update feed the AppImage reads', () => {
    const feed = parse(readFileSync(join(resources, 'app-update.yml'), 'utf8')) as Record<string, string>;
    expect(feed).toMatchObject({ provider: 'github', owner: config.publish.owner, repo: config.publish.repo });
  });

  it('loads its native modules and optional SDK from the packaged files alone, in the stand-in', async () => {
    const probe = join(extracted, 'probe.cjs');
    writeFileSync(
      probe,
      `const Database = require('better-sqlite3');
const ort = require('onnxruntime-node');
(async () => {
  const sqlite = new Database(':memory:').prepare('select sqlite_version() as v').get().v;
  const session = await ort.InferenceSession.create(${JSON.stringify(join(extracted, 'dist/models/demo/model.onnx'))});
  const wandb = await import('@wandb/sdk');
  console.log(JSON.stringify({ sqlite, inputs: session.inputNames, wandb: typeof (wandb.default ?? wandb).init }));
})().catch((e) => { console.error(e); process.exit(1); });
`,
    );
    const { stdout } = await run(join(appOut, config.linux.executableName as string), [probe], { cwd: extracted, timeout: 100_000 });
    const result = JSON.parse(stdout.trim().split('\n').pop()!) as { sqlite: string; inputs: string[]; wandb: string };
    expect(result.sqlite).toMatch(/^3\.\d+/);
    expect(result.inputs.length).toBeGreaterThan(0);
    expect(result.wandb).toBe('function');
  }, 120_000);
});
