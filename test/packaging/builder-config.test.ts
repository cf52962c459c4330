import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import Ajv from 'ajv';
import { minimatch } from 'minimatch';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const root = resolve(__dirname, '../..');
const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the builder's YAML, walked freely by the assertions below
const config = parse(readFileSync(join(root, 'electron-builder.yml'), 'utf8')) as Record<string, any>;
const schema = JSON.parse(readFileSync(join(root, 'node_modules/app-builder-lib/scheme.json'), 'utf8'));

let compiled: ReturnType<Ajv['compile']> | null = null;
function validator() {
  compiled ??= new Ajv({ allErrors: true, strict: false }).compile(schema);
  return compiled;
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

const unpacked = (path: string) => (config.asarUnpack as string[]).some((glob) => minimatch(path, glob, { dot: true }));

describe('electron-builder.yml', () => {
  it("validates against electron-builder's own schema", () => {
    const validate = validator();
    const valid = validate(config);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
    expect(valid).toBe(true);
  });

  it('is refused by the schema when a key is misspelt (the check is real)', () => {
    const validate = validator();
    expect(validate({ ...config, nsis: { ...config.nsis, oneclick: true } })).toBe(false);
    expect(validate({ ...config, electronFuses: { ...config.electronFuses, runAsnode: false } })).toBe(false);
  });

  it('builds a one-click per-user NSIS installer that keeps app data', () => {
    expect(config.nsis).toMatchObject({ oneClick: true, perMachine: false, deleteAppDataOnUninstall: false });
    expect(config.win.target.map((t: { target: string }) => t.target)).toEqual(['nsis']);
    expect(config.linux.target.map((t: { target: string }) => t.target)).toEqual(['AppImage', 'deb']);
    expect(config.appId).toBe('net.nya.miner');
    expect(config.productName).toBe('Nya Miner');
  });

  it('sets every fuse explicitly', () => {
    const fuseNames = Object.keys(schema.definitions.FuseOptionsV1.properties).filter((name) => name !== 'resetAdHocDarwinSignature');
    for (const name of fuseNames) expect(typeof config.electronFuses[name], name).toBe('boolean');
    expect(config.electronFuses).toMatchObject({
      runAsNode: false,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
    });
  });

  it('names only paths that exist', () => {
    const named = [
      config.win.icon,
      config.linux.icon,
      config.nsis.installerIcon,
      config.nsis.uninstallerIcon,
      config.beforePack,
      config.directories.buildResources,
    ];
    for (const path of named) expect(existsSync(join(root, path)), path).toBe(true);
  });

  it('packs the entry points package.json and the shell load', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { main: string };
    const included = (path: string) => {
      let inside = false;
      for (const glob of config.files as string[]) {
        if (glob.startsWith('!')) inside = inside && !minimatch(path, glob.slice(1));
        else inside = inside || minimatch(path, glob);
      }
      return inside;
    };
    for (const path of [
      pkg.main,
      'dist/main/preload.cjs',
      'dist/main/teacher-worker.cjs',
      'dist/renderer/index.html',
      'assets/icons/tray-mining.png',
      'assets/icons/tray-mining@2x.png',
      'package.json',
    ]) {
      expect(included(path), path).toBe(true);
    }
    expect(included('dist/tools/gen-icons.cjs')).toBe(false);
  });

  it("unpacks every one of onnxruntime-node's native files, DirectML DLLs included", () => {
    const bin = join(root, 'node_modules/onnxruntime-node/bin');
    const files = walk(bin).map((f) => relative(root, f).split('\\').join('/'));
    expect(files.some((f) => f.endsWith('/DirectML.dll'))).toBe(true);
    expect(files.some((f) => f.endsWith('.node'))).toBe(true);
    for (const file of files) expect(unpacked(file), file).toBe(true);
    // The CUDA provider files the Linux packaging step adds land in the same folder.
    expect(unpacked('node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so')).toBe(true);
    expect(unpacked('node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1')).toBe(true);
  });

  it("unpacks better-sqlite3's addon and the demo model, and nothing wholesale", () => {
    expect(unpacked('node_modules/better-sqlite3/build/Release/better_sqlite3.node')).toBe(true);
    expect(unpacked('dist/models/demo/model.onnx')).toBe(true);
    expect(unpacked('dist/main/electron-main.cjs')).toBe(false);
    expect(unpacked('node_modules/react/index.js')).toBe(false);
  });

  it('publishes where electron-updater can find it', () => {
    expect(config.publish).toMatchObject({ provider: 'github' });
    expect(config.publish.owner).toBeTruthy();
    expect(config.publish.repo).toBeTruthy();
  });
});

describe('build/before-pack.cjs', () => {
  const hook = require(join(root, 'build/before-pack.cjs')) as ((ctx: unknown) => Promise<void>) & {
    CUDA_PROVIDER_FILES: string[];
  };
  const ctx = (projectDir: string, electronPlatformName = 'linux', arch = 1) => ({
    electronPlatformName,
    arch,
    packager: { projectDir },
  });

  it('stops a Linux x64 build without the CUDA provider files, naming the step', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nya-pack-'));
    try {
      await expect(hook(ctx(dir))).rejects.toThrow(/ONNXRUNTIME_NODE_INSTALL=cuda12/);
      await expect(hook(ctx(dir, 'win32'))).resolves.toBeUndefined();
      await expect(hook(ctx(dir, 'linux', 3))).resolves.toBeUndefined();
      const bin = join(dir, 'node_modules/onnxruntime-node/bin/napi-v6/linux/x64');
      mkdirSync(bin, { recursive: true });
      for (const f of hook.CUDA_PROVIDER_FILES) writeFileSync(join(bin, f), '');
      await expect(hook(ctx(dir))).resolves.toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
