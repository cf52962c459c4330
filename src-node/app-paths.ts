import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * Where the app's own files are. Code runs from sources (vitest), from `dist/main/*.cjs` (the `nya`
 * CLI and the Electron main bundle) and from an asar archive; each finds the package root by
 * walking up to our package.json, so resource paths are written once, relative to that root.
 */
let cachedRoot: string | undefined;

function appRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = __dirname;
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'nya-miner') {
          cachedRoot = dir;
          return dir;
        }
      } catch {
        // Not ours or unreadable: keep walking.
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the nya-miner package root above ${__dirname}`);
    dir = parent;
  }
}

/** A path inside the package, e.g. `resourcePath('assets', 'tokenizer', 'mistral-v3')`. */
export function resourcePath(...segments: string[]): string {
  return resolve(appRoot(), ...segments);
}

/** Generated at build time (demo model, sample FineWeb shard, the built renderer). */
export function distPath(...segments: string[]): string {
  return resolve(appRoot(), 'dist', ...segments);
}

/**
 * The real file behind a path inside the packaged app's asar archive. Electron reads JS from
 * the archive, but native code (ONNX Runtime opening a model) needs the copy electron-builder
 * unpacks beside it (`asarUnpack`). Outside a package the path is returned as is.
 */
export function unpackedPath(path: string): string {
  return path.replace(/([\\/])app\.asar([\\/])/, '$1app.asar.unpacked$2');
}
