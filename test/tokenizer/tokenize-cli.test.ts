import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTokenizer } from '../../src-node/tokenizer';

const root = resolve(__dirname, '../..');
const bundle = join(root, 'dist', 'test', 'nya-tokenize.cjs');
const emptyDir = mkdtempSync(join(tmpdir(), 'nya-tokenize-cli-'));

function nyaTokenize(args: string[], input: string | Buffer) {
  const r = spawnSync(process.execPath, [bundle, ...args], { input, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  // The same esbuild settings as scripts/build.mjs uses for dist/main/nya.cjs.
  await build({
    entryPoints: [join(__dirname, 'fixtures', 'tokenize-entry.ts')],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['electron', 'onnxruntime-node'],
    logLevel: 'silent',
    define: { 'import.meta.url': 'importMetaUrl' },
    banner: { js: "const importMetaUrl = require('url').pathToFileURL(__filename).href;" },
  });
});

afterAll(() => rmSync(emptyDir, { recursive: true, force: true }));

describe('nya tokenize (bundled CLI)', () => {
  it('prints the ids of stdin, BOS first, as one JSON array', async () => {
    const text = 'Hello world!\n[INST] hi [/INST]\t日本語 🦊';
    const r = nyaTokenize([], text);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const expected = Array.from((await loadTokenizer()).encode(text));
    expect(r.stdout).toBe(`${JSON.stringify(expected)}\n`);
  });

  it('truncates with --seq-len and reads --model folders without a tokenizer.json as bundled', () => {
    const r = nyaTokenize(['--seq-len', '3', '--model', emptyDir, '--source'], 'Hello world, again and again');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toHaveLength(3);
    expect(r.stderr).toContain('tokenizer: bundled mistral-v3');
  });

  it('gives BOS alone for empty input', () => {
    expect(nyaTokenize([], '').stdout).toBe('[1]\n');
  });

  it('rejects bad input with a clear message and no ids', () => {
    const badUtf8 = nyaTokenize([], Buffer.from([0x61, 0xff, 0xfe]));
    expect(badUtf8.code).toBe(1);
    expect(badUtf8.stdout).toBe('');
    expect(badUtf8.stderr).toMatch(/not valid UTF-8/);
    const badLen = nyaTokenize(['--seq-len', '0'], 'x');
    expect(badLen.code).toBe(2);
    expect(badLen.stderr).toMatch(/--seq-len must be a positive whole number/);
    const noDir = nyaTokenize(['--model', join(emptyDir, 'missing')], 'x');
    expect(noDir.code).toBe(2);
    expect(noDir.stderr).toMatch(/is not a folder/);
    expect(nyaTokenize(['--bogus'], 'x').code).toBe(2);
  });
});
