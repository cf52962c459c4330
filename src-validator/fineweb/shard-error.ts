/**
 * Why a FineWeb shard could not be read. The message is a sentence an operator can act on; the
 * reason lets callers (the ingest command, tests) branch without parsing text.
 */
export type FineWebShardErrorReason = 'unreadable' | 'not-parquet' | 'missing-column' | 'unsupported-compression' | 'corrupt' | 'bad-row';

export class FineWebShardError extends Error {
  override readonly name = 'FineWebShardError';
  constructor(
    readonly reason: FineWebShardErrorReason,
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
