/** Bytes of an upload that are not yet in place: they belong at offset `at` of the body. */
export interface BodyPiece {
  at: number;
  bytes: ArrayBuffer;
}

/**
 * Copies `pieces` into `body` and empties the list. A piece whose bytes are gone (moved to a
 * thread that then died) is an error, never a hole in the body.
 */
export function assemble(body: Uint8Array, pieces: BodyPiece[]): void {
  for (const { at, bytes } of pieces) {
    if (bytes.byteLength === 0 || at + bytes.byteLength > body.length) throw new Error('a piece of the upload is missing or out of place');
    body.set(new Uint8Array(bytes), at);
  }
  pieces.length = 0;
}
