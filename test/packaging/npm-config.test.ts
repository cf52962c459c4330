import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(__dirname, '../..');
/** The command package.json installs (`nya`). */
const [command] = Object.keys((JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as { bin: object }).bin);
// A cache of its own: npx installs the project into the cache once, running its prepare script, so
// a shared cache would hide what a fresh clone's first `npx nya` does.
const cache = mkdtempSync(join(tmpdir(), 'nya-npx-cache-'));
afterAll(() => rmSync(cache, { recursive: true, force: true }));

describe('npx nya', () => {
  it('starts without npm warning about the project config, and leaves the built tree as npm ci built it', () => {
    const bundle = resolve(root, 'dist/main/nya.cjs');
    const before = statSync(bundle);
    // `--no`: never install from the registry; the project itself is what runs, as after `npm ci`.
    const run = spawnSync('npm', ['exec', '--no', '--', command!, '--help'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, npm_config_cache: cache },
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/usage: nya/);
    expect(run.stderr).not.toMatch(/npm warn/i);
    // A rebuild here would empty dist/main under every other test (and user) running from it.
    const after = statSync(bundle);
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
  });
});
