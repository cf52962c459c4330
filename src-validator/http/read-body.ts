import type { IncomingMessage } from 'node:http';
import { ProtocolError } from './protocol-error';

/**
 * Reads a request body, refusing it as soon as it passes `limitBytes` (the declared
 * Content-Length is checked first, so an honest oversized upload is refused before it is sent).
 */
export function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) {
    req.resume();
    return Promise.reject(tooLarge(limitBytes));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
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
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    req.on('error', (error) => {
      if (!failed) reject(error);
    });
  });
}

function tooLarge(limitBytes: number): ProtocolError {
  return new ProtocolError('body-too-large', `The body is larger than ${limitBytes} bytes, the most this endpoint takes.`);
}
