import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(__dirname, '../..');
/** The command package.json installs (`nya`). */
const [command] = Object.keys((JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as { bin: object }).bin);

describe('npx nya', () => {
  it('starts without npm warning about the project config (.npmrc keys npm does not know)', () => {
    // `--no`: never install; the local bin is what runs, as after `npm ci`.
    const run = spawnSync('npm', ['exec', '--no', '--', command!, '--help'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/usage: nya/);
    expect(run.stderr).not.toMatch(/npm warn/i);
  });
});
