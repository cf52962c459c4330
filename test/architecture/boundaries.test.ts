import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The folders are the architecture (docs/ARCHITECTURE.md): the contracts import nothing of ours,
 * the renderer and main never import each other, and Electron stays inside the shell. The
 * per-process tsconfigs keep Node and DOM types apart; this keeps the import graph honest.
 */
const ROOT = resolve(__dirname, '../..');

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) return sources(path);
    return /\.(ts|tsx)$/.test(name) ? [path] : [];
  });
}

/** Every module specifier a file imports (static, dynamic and type-only), resolved to a repo path when relative. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const specs = [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g)].map((m) => m[1]!);
  return specs.map((s) => (s.startsWith('.') ? relative(ROOT, resolve(ROOT, dirname(file), s)) : s));
}

function violations(dir: string, forbidden: (spec: string, file: string) => boolean): string[] {
  return sources(dir).flatMap((file) => importsOf(file).filter((s) => forbidden(s, file)).map((s) => `${file} imports ${s}`));
}

const ours = (s: string, folder: string) => s === folder || s.startsWith(`${folder}/`);
const NODE_BUILTIN = /^(node:|fs$|path$|os$|crypto$|child_process$|http$|net$|url$|util$|zlib$|stream$|worker_threads$)/;

describe('import boundaries', () => {
  it('src-shared imports nothing of ours and no Node or Electron module', () => {
    expect(violations('src-shared', (s) => ['src-main', 'src-renderer', 'src-validator'].some((f) => ours(s, f)) || NODE_BUILTIN.test(s) || s === 'electron')).toEqual([]);
  });

  it('the renderer imports only itself and src-shared (no main, validator, Node or Electron)', () => {
    expect(violations('src-renderer', (s) => ours(s, 'src-main') || ours(s, 'src-validator') || NODE_BUILTIN.test(s) || s === 'electron')).toEqual([]);
  });

  it('main never imports the renderer', () => {
    expect(violations('src-main', (s) => ours(s, 'src-renderer'))).toEqual([]);
  });

  it('Electron is imported only by the shell (src-main/electron, the desktop composition root)', () => {
    const allowed = (file: string) => file.startsWith('src-main/electron/') || file === 'src-main/compose/electron.ts';
    expect(violations('src-main', (s, file) => (s === 'electron' || s.startsWith('electron/')) && !allowed(file))).toEqual([]);
    expect(violations('src-validator', (s) => s === 'electron')).toEqual([]);
  });

  it('the validator imports only src-shared and the foundation (src-node), never main or the renderer', () => {
    expect(violations('src-validator', (s) => ours(s, 'src-renderer') || ours(s, 'src-main'))).toEqual([]);
  });

  it('finds the imports it checks (the scan itself works)', () => {
    expect(importsOf('src-main/compose/services.ts')).toContain('src-main/miner/miner');
    expect(importsOf('src-renderer/main.tsx')).toContain('react');
  });
});
