import { createHash } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BodyBuffers } from '../../src-validator/http/body-buffers';
import { readBody, type PooledBody } from '../../src-validator/http/read-body';
import { assemble } from '../../src-validator/verify/body-pieces';

let server: Server | null = null;
afterEach(() => {
  server?.close();
  server = null;
});

/** POSTs `body` to a server that reads it with `readBody` into pooled buffers. */
async function receive(body: Buffer, limit = 1 << 24): Promise<PooledBody> {
  const buffers = new BodyBuffers();
  const received = new Promise<PooledBody>((resolve, reject) => {
    server = createServer((req, res) => {
      readBody(req, limit, buffers, 60_000)
        .then(resolve, reject)
        .finally(() => res.end());
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const { port } = server!.address() as AddressInfo;
  await new Promise<void>((resolve, reject) => {
    const req = request({ port, host: '127.0.0.1', method: 'POST', headers: { 'content-length': String(body.length) } }, (res) =>
      res.resume().on('end', resolve),
    );
    req.on('error', reject);
    req.end(body);
  });
  return received;
}

describe('readBody into pooled buffers', () => {
  it('hashes every byte and leaves the copy to `assemble`: the assembled body is what was sent', async () => {
    const sent = Buffer.from(Array.from({ length: 3_000_000 }, (_, i) => (i * 2654435761) >>> 24));
    const got = await receive(sent);
    expect(got.sha256Hex).toBe(createHash('sha256').update(sent).digest('hex'));
    expect(got.body.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(got.body.length).toBe(sent.length);
    expect(got.pieces.length).toBeGreaterThan(1);
    assemble(got.body, got.pieces);
    expect(got.pieces).toEqual([]);
    expect(got.body.equals(sent)).toBe(true);
    got.release();
  });

  it('refuses to assemble around a piece whose bytes are gone', () => {
    const moved = new ArrayBuffer(8);
    structuredClone(moved, { transfer: [moved] });
    expect(() =>
      assemble(new Uint8Array(16), [
        { at: 0, bytes: new ArrayBuffer(8) },
        { at: 8, bytes: moved },
      ]),
    ).toThrow(/missing/);
    expect(() => assemble(new Uint8Array(16), [{ at: 12, bytes: new ArrayBuffer(8) }])).toThrow(/out of place/);
  });
});
