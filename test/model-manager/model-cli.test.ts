import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src-main/cli/commands/model';
import { FileServer } from './file-server';
import { startTeacherServer } from './teacher-server';

const weights = randomBytes(512 * 1024);
const graph = randomBytes(4096);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
let server: FileServer;
let dataDir: string;

function io(isTty = false) {
  const out: string[] = [];
  let err = '';
  return {
    out,
    get err() {
      return err;
    },
    io: {
      out: (l: string) => out.push(l),
      err: (t: string) => {
        err += t;
      },
      isTty,
    },
  };
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'nya-model-cli-'));
  server = new FileServer();
  server.serve('/int4/model.onnx', graph);
  server.serve('/int4/model.onnx_data', weights);
  const manifest = {
    version: 1,
    variants: [
      {
        id: 'mistral-7b-instruct-v0.3-int4',
        files: [
          { name: 'model.onnx', url: 'int4/model.onnx', sha256: sha(graph), bytes: graph.length },
          { name: 'model.onnx_data', url: 'int4/model.onnx_data', sha256: sha(weights), bytes: weights.length },
        ],
      },
    ],
  };
  server.serve('/manifest.json', Buffer.from(JSON.stringify(manifest)));
  await server.start();
});

afterAll(async () => {
  await server.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('nya model', () => {
  it('lists the variants and recommends the one that fits', async () => {
    const t = io();
    expect(await run(['list', '--vram', '8192', '--data-dir', dataDir], t.io)).toBe(0);
    const text = t.out.join('\n');
    expect(text).toMatch(/^\* mistral-7b-instruct-v0\.3-int4 .* not downloaded \(no manifest\)$/m);
    expect(text).toMatch(/^ {2}mistral-7b-instruct-v0\.3-fp16 /m);
    expect(text).toMatch(/recommended: .*fits 8 GB/);
  });

  it('downloads a variant from a manifest with percentage lines, then lists it as here', async () => {
    const t = io();
    const manifest = server.url('/manifest.json');
    expect(await run(['download', 'mistral-7b-instruct-v0.3-int4', '--manifest', manifest, '--data-dir', dataDir], t.io)).toBe(0);
    const dir = join(dataDir, 'models', 'mistral-7b-instruct-v0.3-int4');
    expect(t.out).toEqual([dir]);
    expect(readFileSync(join(dir, 'model.onnx_data')).equals(weights)).toBe(true);
    const lines = t.err.trim().split('\n');
    expect(lines.at(-1)).toBe(`100% model.onnx_data ${weights.length}/${weights.length} bytes`);
    expect(lines.every((l) => /^\d+% model\.onnx(_data)? \d+\/\d+ bytes$/.test(l))).toBe(true);

    const listed = io();
    await run(['list', '--vram', '24576', '--manifest', manifest, '--data-dir', dataDir], listed.io);
    expect(listed.out.join('\n')).toMatch(
      new RegExp(`mistral-7b-instruct-v0\\.3-int4 .* here: ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
    );
  });

  it('draws a progress bar on a terminal', async () => {
    const t = io(true);
    const other = mkdtempSync(join(tmpdir(), 'nya-model-cli-tty-'));
    try {
      expect(
        await run(['download', 'mistral-7b-instruct-v0.3-int4', '--manifest', server.url('/manifest.json'), '--data-dir', other], t.io),
      ).toBe(0);
      expect(t.err).toMatch(/\r\[#{30}\] 100% {2}model\.onnx_data/);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it("downloads the validator's variant that fits the GPU, without naming it", async () => {
    const validator = await startTeacherServer([
      { id: 'test-int4', minVramMiB: 5632 },
      { id: 'test-fp16', minVramMiB: 15360 },
    ]);
    try {
      const t = io();
      expect(await run(['download', '--validator', validator.url(''), '--vram', '6144', '--data-dir', dataDir], t.io)).toBe(0);
      expect(t.out).toEqual([join(dataDir, 'models', 'test-int4')]);
      const listed = io();
      expect(await run(['list', '--validator', validator.url(''), '--vram', '24576', '--data-dir', dataDir], listed.io)).toBe(0);
      expect(listed.out.join('\n')).toMatch(/^\* test-fp16 .* not downloaded$/m);
      expect(listed.out.join('\n')).toMatch(/^ {2}test-int4 .* here: /m);
      const noNetwork = io();
      expect(await run(['download', '--network', 'nowhere', '--data-dir', dataDir], noNetwork.io)).toBe(2);
      expect(noNetwork.err).toMatch(/no network 'nowhere'; known: local/);
      const localNetwork = io();
      expect(await run(['download', '--network', 'local', '--data-dir', dataDir], localNetwork.io)).toBe(2);
      expect(localNetwork.err).toMatch(/'local' has no validator to download from/);
    } finally {
      await validator.stop();
    }
  });

  it('explains what is missing instead of failing vaguely', async () => {
    const noManifest = io();
    expect(await run(['download', 'mistral-7b-instruct-v0.3-fp16', '--data-dir', dataDir], noManifest.io)).toBe(2);
    expect(noManifest.err).toMatch(/no download source .* --validator URL, --network NAME or --manifest URL/);
    const unknown = io();
    expect(await run(['download', 'llama', '--data-dir', dataDir], unknown.io)).toBe(2);
    expect(unknown.err).toMatch(/unknown variant 'llama'/);
    const badDir = io();
    expect(await run(['verify', join(dataDir, 'nothing-here')], badDir.io)).toBe(1);
    expect(badDir.err).toMatch(/does not exist/);
    const notOnnx = join(dataDir, 'not-onnx');
    rmSync(notOnnx, { recursive: true, force: true });
    mkdirSync(notOnnx);
    writeFileSync(join(notOnnx, 'model.onnx'), 'garbage \xff\xff\xff');
    const corrupt = io();
    expect(await run(['verify', notOnnx], corrupt.io)).toBe(1);
    expect(corrupt.err).toMatch(/not a valid ONNX model/);
    expect(await run(['frobnicate'], io().io)).toBe(2);
  });
});
