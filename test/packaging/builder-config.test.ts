import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import Ajv from 'ajv';
import { minimatch } from 'minimatch';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { RELEASES_PAGE_URL } from '../../src-main/electron/updater';

const root = resolve(__dirname, '../..');
const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the builder's YAML, walked freely by the assertions below
type Config = Record<string, any>;
const config = parse(readFileSync(join(root, 'electron-builder.yml'), 'utf8')) as Config;
// electron-builder is installed in packaging/ (docs/PACKAGING.md), not by the root `npm ci`.
const builderLib = join(root, 'packaging/node_modules/app-builder-lib');
const noBuilder = existsSync(builderLib) ? null : 'packaging tools not installed (npm ci --prefix packaging)';
if (noBuilder) console.warn(`electron-builder schema checks skipped: ${noBuilder}`);
const schema = noBuilder ? null : JSON.parse(readFileSync(join(builderLib, 'scheme.json'), 'utf8'));
const signing = require(join(root, 'build/windows-signing.cjs')) as {
  withWindowsSigning(config: Config, env: Record<string, string | undefined>): Config;
};

let compiled: ReturnType<Ajv['compile']> | null = null;
function validator() {
  compiled ??= new Ajv({ allErrors: true, strict: false }).compile(schema!);
  return compiled;
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

const unpacked = (path: string) => (config.asarUnpack as string[]).some((glob) => minimatch(path, glob, { dot: true }));

describe.skipIf(noBuilder)("electron-builder's schema and defaults", () => {
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

  it('validates in every Windows signing mode, and labels the unsigned installer', () => {
    const validate = validator();
    const azure = {
      NYA_AZURE_SIGNING_ENDPOINT: 'https://weu.codesigning.azure.net',
      NYA_AZURE_SIGNING_ACCOUNT: 'nya',
      NYA_AZURE_CERTIFICATE_PROFILE: 'nya-public',
    };
    for (const env of [{}, { CSC_LINK: '/secrets/nya.pfx' }, azure, { NYA_REQUIRE_SIGNING: '1' }]) {
      const built = signing.withWindowsSigning(config, env);
      expect(validate(built), JSON.stringify(validate.errors)).toBe(true);
    }
    expect(signing.withWindowsSigning(config, {}).nsis.artifactName).toBe('Nya-Miner-Setup-${version}-unsigned.${ext}');
    expect(signing.withWindowsSigning(config, { WIN_CSC_LINK: 'x' }).nsis.artifactName).toBe(config.nsis.artifactName);
    expect(signing.withWindowsSigning(config, azure).win.azureSignOptions).toEqual({
      endpoint: azure.NYA_AZURE_SIGNING_ENDPOINT,
      codeSigningAccountName: azure.NYA_AZURE_SIGNING_ACCOUNT,
      certificateProfileName: azure.NYA_AZURE_CERTIFICATE_PROFILE,
      publisherName: 'Nya Miner contributors',
    });
    // Half an Azure configuration signs nothing: the installer says so.
    expect(signing.withWindowsSigning(config, { NYA_AZURE_SIGNING_ENDPOINT: 'x' }).nsis.artifactName).toMatch(/-unsigned\./);
    expect(signing.withWindowsSigning(config, { NYA_REQUIRE_SIGNING: '1' }).win.forceCodeSigning).toBe(true);
  });

  it("depends on everything electron-builder's deb defaults name, plus libsecret for safeStorage", () => {
    const FpmTarget = (
      require(join(builderLib, 'out/targets/FpmTarget.js')) as { default: { prototype: { getDefaultDepends(target: string): string[] } } }
    ).default;
    const defaults = FpmTarget.prototype.getDefaultDepends.call(null, 'deb');
    expect(defaults).toContain('libgtk-3-0');
    expect(config.deb.depends).toEqual(expect.arrayContaining([...defaults, 'libsecret-1-0']));
  });

  it('pins the Electron version the packaging tools install', () => {
    const tools = JSON.parse(readFileSync(join(root, 'packaging/package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    expect(String(config.electronVersion)).toBe(tools.devDependencies.electron);
  });

  it("keeps of onnxruntime-node only the target platform's binaries: Windows gets DirectML, Linux none of it", () => {
    // electron-builder's own matcher and macro expansion, as it filters node_modules for a target.
    const { getNodeModuleFileMatcher } = require(join(builderLib, 'out/fileMatcher.js')) as {
      getNodeModuleFileMatcher(...args: unknown[]): { createFilter(): (file: string, stat: Stats) => boolean };
    };
    const { expandMacro } = require(join(builderLib, 'out/util/macroExpander.js')) as {
      expandMacro(pattern: string, arch: string, appInfo: object, extra: Record<string, string>): string;
    };
    const files = walk(join(root, 'node_modules/onnxruntime-node/bin'));
    const kept = (os: string) => {
      const expand = (pattern: string) => expandMacro(pattern, 'x64', {}, { os });
      const packager = { config: { files: config.files }, debugLogger: { isEnabled: false } };
      const filter = getNodeModuleFileMatcher(root, '/app', expand, {}, packager).createFilter();
      return files.filter((f) => filter(f, statSync(f))).map((f) => relative(root, f).split('\\').join('/'));
    };
    const folder = (name: string) =>
      files.map((f) => relative(root, f).split('\\').join('/')).filter((f) => f.includes(`/napi-v6/${name}/x64/`));
    expect(kept('win')).toEqual(folder('win32'));
    expect(kept('win').some((f) => f.endsWith('/DirectML.dll'))).toBe(true);
    expect(kept('linux')).toEqual(folder('linux'));
    expect(kept('linux').some((f) => f.endsWith('/libonnxruntime.so.1'))).toBe(true);
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
});

describe('electron-builder.yml', () => {
  it('names only paths that exist', () => {
    const named = [
      config.win.icon,
      config.linux.icon,
      config.nsis.installerIcon,
      config.nsis.uninstallerIcon,
      config.beforePack,
      config.directories.buildResources,
      'build/installer-config.cjs',
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
    // The desktop app never runs the CLI bundle, and ships no source maps.
    expect(included('dist/main/nya.cjs')).toBe(false);
    expect(included('dist/main/electron-main.cjs.map')).toBe(false);
  });

  it('ships unbundled only the packages the bundles leave external (everything bundled is a devDependency)', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      optionalDependencies: Record<string, string>;
    };
    const build = readFileSync(join(root, 'scripts/build.mjs'), 'utf8');
    const external = JSON.parse(/const external = (\[[^\]]*\])/.exec(build)![1]!.replaceAll("'", '"')) as string[];
    for (const name of Object.keys(pkg.dependencies)) expect(external, name).toContain(name);
    // Loaded at run time when the user turns W&B logging on; graphql is graphql-request's peer,
    // which electron-builder's copy of the production tree would otherwise leave out.
    expect(Object.keys(pkg.optionalDependencies)).toEqual(['@wandb/sdk', 'graphql']);
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

  it('publishes where electron-updater can find it, and where the .deb sends its users', () => {
    expect(config.publish).toMatchObject({ provider: 'github' });
    expect(RELEASES_PAGE_URL).toBe(`https://github.com/${config.publish.owner}/${config.publish.repo}/releases/latest`);
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
