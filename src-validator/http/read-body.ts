import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { BodyBuffers } from './body-buffers';
import { ProtocolError } from './protocol-error';
import type { BodyPiece } from '../verify/body-pieces';

export interface ReceivedBody {
  body: Buffer;
  sha256Hex: string;
}

/**
 * A body read into a pooled buffer: `release` when the request is answered. Until `assemble`
 * (verify/body-pieces.ts) has run on `pieces`, `body` holds only the bytes that are not in them:
 * copying a multi-megabyte upload is left to whoever reads it first, a check worker (the pieces
 * are moved to it, not copied), so the event loop only hashes what arrives.
 */
export interface PooledBody extends ReceivedBody {
  pieces: BodyPiece[];
  release(): void;
}

/** A chunk alone in its ArrayBuffer (Node's HTTP parser copies each body chunk into one) can be moved whole. */
function ownsItsMemory(chunk: Buffer): boolean {
  return chunk.byteOffset === 0 && chunk.buffer instanceof ArrayBuffer && chunk.buffer.byteLength === chunk.length;
}

/**
 * Reads a request body, refusing it as soon as it passes `limitBytes` (the declared
 * Content-Length is checked first, so an honest oversized upload is refused before it is sent).
 * The SHA-256 the signature covers is computed chunk by chunk as the body streams in: for a
 * megabyte result upload that spreads milliseconds of hashing over the upload instead of
 * blocking the event loop once the last byte has arrived. With `buffers`, a body of declared
 * length lands in a pooled SharedArrayBuffer (see BodyBuffers) that the caller releases, its
 * chunks kept as `pieces` where they can be moved (see PooledBody). A body not whole within
 * `deadlineMs` of the call is refused (`too-slow`), and one whose client goes away is refused too;
 * either way the pooled buffer goes back at once.
 */
export function readBody(req: IncomingMessage, limitBytes: number, buffers: null, deadlineMs: number): Promise<ReceivedBody>;
export function readBody(req: IncomingMessage, limitBytes: number, buffers: BodyBuffers, deadlineMs: number): Promise<PooledBody>;
export function readBody(req: IncomingMessage, limitBytes: number, buffers: BodyBuffers | null, deadlineMs: number): Promise<PooledBody> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) {
    req.resume();
    return Promise.reject(tooLarge(limitBytes));
  }
  const lease = buffers && Number.isInteger(declared) && declared > 0 ? buffers.acquire(declared) : null;
  const shared = lease?.bytes ?? null;
  const release = () => lease?.release();
  return new Promise<PooledBody>((resolve, reject) => {
    const chunks: Buffer[] = [];
    const pieces: BodyPiece[] = [];
    const hash = createHash('sha256');
    let size = 0;
    let settled = false;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      chunks.length = 0;
      pieces.length = 0;
      release();
      reject(error);
    };
    const deadline = setTimeout(() => fail(tooSlow(deadlineMs)), deadlineMs);
    req.on('data', (chunk: Buffer) => {
      if (settled) return;
      if (size + chunk.length > limitBytes || (shared && size + chunk.length > shared.length)) {
        fail(tooLarge(limitBytes));
        return;
      }
      hash.update(chunk);
      if (shared && ownsItsMemory(chunk)) pieces.push({ at: size, bytes: chunk.buffer as ArrayBuffer });
      else if (shared) chunk.copy(shared, size);
      else chunks.push(chunk);
      size += chunk.length;
    });
    req.on('end', () => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      const body = shared ? shared.subarray(0, size) : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      resolve({ body, pieces, sha256Hex: hash.digest('hex'), release });
    });
    // A client that goes away mid-body: Node emits 'error' ("aborted") and then 'close'; either is the end of it.
    req.on('error', () => fail(gone()));
    req.on('close', () => fail(gone()));
  });
}

function tooSlow(deadlineMs: number): ProtocolError {
  return new ProtocolError('too-slow', `The body did not arrive within ${deadlineMs / 1000} s; send it again, faster.`);
}

function gone(): ProtocolError {
  return new ProtocolError('bad-request', 'The connection closed before the whole body arrived.');
}

function tooLarge(limitBytes: number): ProtocolError {
  return new ProtocolError('body-too-large', `The body is larger than ${limitBytes} bytes, the most this endpoint takes.`);
}
