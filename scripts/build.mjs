#!/usr/bin/env node
// Builds every process: main-side bundles with esbuild (CommonJS, native modules external, so the
// same files run under Electron and plain Node), the renderer with Vite, then the generated
// assets the quick start needs (the demo model, the sample FineWeb shard). Run by `npm ci`
// (prepare) and `npm run build`; `--only=main|renderer|assets` narrows it.
import { build as esbuild } from 'esbuild';
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);

/** Native or Electron-provided modules stay outside the bundles. */
const external = ['electron', 'onnxruntime-node', 'better-sqlite3', 'pg-native', 'bufferutil', 'utf-8-validate'];

/** source (relative to the root) → output (relative to dist/). Missing sources are skipped. */
const mainEntries = [
  ['src-main/cli/nya.ts', 'main/nya.cjs'],
  ['src-main/teacher/worker-entry.ts', 'main/teacher-worker.cjs'],
  ['src-main/electron/main.ts', 'main/electron-main.cjs'],
  ['src-main/electron/preload.ts', 'main/preload.cjs'],
  ['src-validator/verify/check-worker.ts', 'main/check-worker.cjs'],
];

/** Browser bundles main serves itself: the payout link page opens in the user's own browser, beside their wallet extension. */
const browserEntries = [['src-renderer/link-page/main.ts', 'link-page/link-page.js']];

/**
 * The network a fresh install joins (src-main/settings/networks.ts), fixed at build time:
 * `NYA_DEFAULT_NETWORK=name npm run build`. It must be one of assets/networks.json's names.
 */
function defaultNetworkDefine() {
  const name = process.env.NYA_DEFAULT_NETWORK || 'local';
  const bundled = JSON.parse(readFileSync(resolve(root, 'assets/networks.json'), 'utf8')).networks.map((n) => n.name);
  if (!bundled.includes(name)) throw new Error(`NYA_DEFAULT_NETWORK=${name} is not in assets/networks.json (${bundled.join(', ')})`);
  return { 'process.env.NYA_DEFAULT_NETWORK': JSON.stringify(name) };
}

const importMetaShim = {
  define: { 'import.meta.url': 'importMetaUrl' },
  banner: { js: "const importMetaUrl = require('url').pathToFileURL(__filename).href;" },
};

async function buildMain() {
  const started = Date.now();
  const networkDefine = defaultNetworkDefine();
  for (const [src, out] of mainEntries) {
    if (!existsSync(resolve(root, src))) continue;
    await esbuild({
      entryPoints: [resolve(root, src)],
      outfile: resolve(root, 'dist', out),
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      sourcemap: 'linked',
      external,
      logLevel: 'warning',
      // Bundled ESM-only dependencies may read import.meta.url; give them the bundle's own URL.
      // Not the preload: a sandboxed preload has no __filename (and bundles no ESM dependency).
      ...(out === 'main/preload.cjs' ? {} : importMetaShim),
      define: { ...networkDefine, ...(out === 'main/preload.cjs' ? {} : importMetaShim.define) },
    });
  }
  for (const [src, out] of browserEntries) {
    // No source map: the file is served as is, and a map would only be one more thing to serve.
    await esbuild({
      entryPoints: [resolve(root, src)],
      outfile: resolve(root, 'dist', out),
      bundle: true,
      platform: 'browser',
      target: 'es2020',
      format: 'iife',
      minify: true,
      logLevel: 'warning',
    });
  }
  console.log(`build: main bundles in ${Date.now() - started} ms`);
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', shell: false });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status}`);
}

async function buildRenderer() {
  if (!existsSync(resolve(root, 'src-renderer/index.html'))) return;
  const started = Date.now();
  run(process.execPath, [resolve(root, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn']);
  console.log(`build: renderer in ${Date.now() - started} ms`);
}

async function buildAssets() {
  // Generators are TypeScript under scripts/gen-*.ts, bundled like main code and run once each;
  // each writes its outputs under dist/ and skips work whose output is already current. Tools are
  // bundled the same way and only run on demand (gen-test-model: scripts/gpu-check.sh, tests).
  const gens = ['scripts/gen-demo-model.ts', 'scripts/gen-sample-fineweb.ts'];
  const tools = ['scripts/gen-test-model.ts'];
  for (const src of [...gens, ...tools]) {
    if (!existsSync(resolve(root, src))) continue;
    const out = resolve(root, 'dist/tools', src.replace(/^scripts\//, '').replace(/\.ts$/, '.cjs'));
    await esbuild({
      entryPoints: [resolve(root, src)],
      outfile: out,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      external,
      logLevel: 'warning',
      ...importMetaShim,
    });
    if (gens.includes(src)) run(process.execPath, [out]);
  }
}

/**
 * `npx nya` in the project folder installs the project into npx's own cache, and npm runs its
 * prepare script there: a second full build right after `npm ci`'s, emptying dist/main under
 * whatever already runs from it. A built tree is left alone; `npm run build` rebuilds.
 */
function isNpxInstallOfBuiltTree() {
  if (process.env.npm_command !== 'exec' || process.env.npm_lifecycle_event !== 'prepare') return false;
  return ['dist/main/nya.cjs', 'dist/renderer/index.html'].every((f) => existsSync(resolve(root, f)));
}

if (isNpxInstallOfBuiltTree()) process.exit(0);
if (!only) await rm(resolve(root, 'dist/main'), { recursive: true, force: true });
if (!only || only === 'main') await buildMain();
if (!only || only === 'renderer') await buildRenderer();
if (!only || only === 'assets') await buildAssets();
