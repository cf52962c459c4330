import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { INVOKE_CHANNELS, STATE_CHANNEL } from '../../src-shared/channels';

const root = resolve(__dirname, '../..');
const nodeRequire = createRequire(import.meta.url);
const bundle = join(root, 'dist/main/preload.cjs');
/** A few kilobytes: the bridge and the channel list. zod alone would be ~250 KB. */
const MAX_PRELOAD_BYTES = 8 * 1024;

/** The modules a sandboxed preload's `require` offers (Electron's sandboxed_renderer/init). */
const SANDBOX_MODULES = new Set([
  'electron',
  'electron/common',
  'electron/renderer',
  'events',
  'node:events',
  'timers',
  'node:timers',
  'url',
  'node:url',
]);

beforeAll(() => {
  if (existsSync(bundle)) return;
  const built = spawnSync(process.execPath, ['scripts/build.mjs', '--only=main'], { cwd: root, encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`node scripts/build.mjs --only=main failed:\n${built.stderr}`);
}, 120_000);

/**
 * Runs the built preload the way Electron runs a sandboxed one: wrapped in a function whose only
 * Node-ish names are require (limited), process, exports, module, Buffer, global, setImmediate
 * and clearImmediate. No __filename, no __dirname, no fs.
 */
function runSandboxed(source: string) {
  const exposed = new Map<string, unknown>();
  const invoked: unknown[][] = [];
  const listeners = new Map<string, (...args: unknown[]) => void>();
  const electron = {
    contextBridge: { exposeInMainWorld: (key: string, api: unknown) => exposed.set(key, api) },
    ipcRenderer: {
      invoke: async (...args: unknown[]) => (invoked.push(args), { ok: true, value: null }),
      on: (channel: string, l: (...args: unknown[]) => void) => listeners.set(channel, l),
      removeListener: (channel: string) => listeners.delete(channel),
    },
  };
  const requested: string[] = [];
  const sandboxRequire = (name: string) => {
    requested.push(name);
    if (!SANDBOX_MODULES.has(name)) throw new Error(`module not found: ${name}`);
    if (name.startsWith('electron')) return electron;
    return nodeRequire(name.replace(/^node:/, ''));
  };
  const module = { exports: {} };
  const wrapper = new Function(
    'require',
    'process',
    'exports',
    'module',
    'Buffer',
    'global',
    'setImmediate',
    'clearImmediate',
    `"use strict";\n${source}`,
  );
  wrapper(sandboxRequire, { platform: 'linux', env: {} }, module.exports, module, Buffer, {}, setImmediate, clearImmediate);
  return { exposed, invoked, listeners, requested };
}

describe('dist/main/preload.cjs', () => {
  it(`stays under ${MAX_PRELOAD_BYTES} bytes and carries no zod`, () => {
    const size = statSync(bundle).size;
    expect(size).toBeLessThan(MAX_PRELOAD_BYTES);
    const source = readFileSync(bundle, 'utf8');
    expect(source).not.toMatch(/\bzod\b|ZodError|safeParse/);
  });

  it('runs in a sandboxed renderer and exposes window.nya with the contract channels only', async () => {
    const s = runSandboxed(readFileSync(bundle, 'utf8'));
    expect(s.requested.every((name) => SANDBOX_MODULES.has(name))).toBe(true);
    expect([...s.exposed.keys()]).toEqual(['nya']);
    const nya = s.exposed.get('nya') as { invoke(c: string, p: unknown): Promise<unknown>; onState(l: unknown): () => void };
    for (const channel of INVOKE_CHANNELS) await nya.invoke(channel, {});
    expect(s.invoked.map(([channel]) => channel)).toEqual([...INVOKE_CHANNELS]);
    await expect(nya.invoke('shell:open', {})).resolves.toMatchObject({ ok: false });
    expect(s.invoked).toHaveLength(INVOKE_CHANNELS.length);
    const off = nya.onState(() => undefined);
    expect(s.listeners.has(STATE_CHANNEL)).toBe(true);
    off();
    expect(s.listeners.has(STATE_CHANNEL)).toBe(false);
  });
});
