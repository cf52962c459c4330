import { readFileSync } from 'node:fs';
import { resourcePath } from './app-paths';

let cached: string | undefined;

/** The app's version, from our package.json: the one `nya --version`, diagnostics and clients report. */
export function appVersion(): string {
  cached ??= (JSON.parse(readFileSync(resourcePath('package.json'), 'utf8')) as { version: string }).version;
  return cached;
}

/** A dependency's installed version (e.g. onnxruntime-node's), or null when it is not there. */
export function packageVersion(name: string): string | null {
  try {
    return (JSON.parse(readFileSync(resourcePath('node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return null;
  }
}
