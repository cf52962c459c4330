import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ProtocolError } from './protocol-error';

export interface ReceivedBody {
  body: Buffer;
  sha256Hex: string;
}

/**
 * Reads a request body, refusing it as soon as it passes `limitBytes` (the declared
 * Content-Length is checked first, so an honest oversized upload is refused before it is sent).
 * The SHA-256 the signature covers is computed chunk by chunk as the body streams in: for a
 * megabyte result upload that spreads milliseconds of hashing over the upload instead of
 * blocking the event loop once the last byte has arrived.
 */
export function readBody(req: IncomingMessage, limitBytes: number): Promise<ReceivedBody> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) {
    req.resume();
    return Promise.reject(tooLarge(limitBytes));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const hash = createHash('sha256');
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limitBytes) {
        failed = true;
        chunks.length = 0;
        reject(tooLarge(limitBytes));
        return;
      }
      hash.update(chunk);
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve({ body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size), sha256Hex: hash.digest('hex') });
    });
    req.on('error', (error) => {
      if (!failed) reject(error);
    });
  });
}

function tooLarge(limitBytes: number): ProtocolError {
  return new ProtocolError('body-too-large', `The body is larger than ${limitBytes} bytes, the most this endpoint takes.`);
}
