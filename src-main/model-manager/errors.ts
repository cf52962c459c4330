/**
 * What can go wrong with a model download or a model folder, each a sentence a user can act on.
 * `code` lets the UI and the CLI tell them apart without parsing messages.
 */
export type ModelErrorCode = 'network' | 'http-status' | 'checksum' | 'disk-full' | 'aborted' | 'no-source' | 'missing' | 'corrupt';

export class ModelError extends Error {
  override readonly name: string = 'ModelError';
  constructor(
    readonly code: ModelErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class ChecksumMismatchError extends ModelError {
  override readonly name = 'ChecksumMismatchError';
  constructor(
    readonly path: string,
    readonly expectedSha256: string,
    readonly actualSha256: string,
  ) {
    super(
      'checksum',
      `${path} is corrupt: its sha256 is ${actualSha256}, expected ${expectedSha256}. The file was deleted; download it again.`,
    );
  }
}

export class DiskFullError extends ModelError {
  override readonly name = 'DiskFullError';
  constructor(
    readonly dir: string,
    readonly neededBytes: number,
    readonly freeBytes: number,
  ) {
    super(
      'disk-full',
      `not enough free disk space in ${dir}: the download needs ${formatBytes(neededBytes)} more, ${formatBytes(freeBytes)} is free.`,
    );
  }
}

export class HttpStatusError extends ModelError {
  override readonly name = 'HttpStatusError';
  constructor(
    readonly url: string,
    readonly status: number,
  ) {
    super('http-status', `${url} answered HTTP ${status}${status === 404 ? ' (not found: check the model manifest)' : ''}.`);
  }
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`;
}
