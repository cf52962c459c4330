/**
 * `Range`, `If-Range` and `If-None-Match` for one file, as RFC 9110 has them (§13.1.2, §13.1.5,
 * §14.2). Pure, so every hostile header is a table row in a test.
 */

/** Which bytes to send: the whole file, one inclusive range, or none (416). */
export type RangeAnswer = { kind: 'whole' } | { kind: 'part'; start: number; end: number } | { kind: 'unsatisfiable' };

/** Longer digit runs than this are past any file's size (and past exact doubles). */
const MAX_DIGITS = 15;

function position(digits: string): number {
  return digits.length > MAX_DIGITS ? Infinity : Number(digits);
}

/**
 * The answer to a `Range` header for a file of `size` bytes. Another unit is ignored (a MUST);
 * several ranges get the whole file (a server may: a downloader asks for one); a `bytes=` range
 * that does not parse, or starts past the end, is unsatisfiable.
 */
export function byteRange(header: string | undefined, size: number): RangeAnswer {
  if (header === undefined) return { kind: 'whole' };
  const eq = header.indexOf('=');
  if (eq < 0) return { kind: 'unsatisfiable' };
  if (header.slice(0, eq).trim().toLowerCase() !== 'bytes') return { kind: 'whole' };
  const specs = header.slice(eq + 1).split(',');
  if (specs.length > 1) return specs.every((s) => /^\s*(\d+-\d*|-\d+)\s*$/.test(s)) ? { kind: 'whole' } : { kind: 'unsatisfiable' };
  const m = /^\s*(\d*)-(\d*)\s*$/.exec(specs[0]!);
  if (!m || (m[1] === '' && m[2] === '')) return { kind: 'unsatisfiable' };
  if (m[1] === '') {
    const suffix = position(m[2]!);
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'part', start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = position(m[1]!);
  const last = m[2] === '' ? Infinity : position(m[2]!);
  if (last < start || start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'part', start, end: Math.min(last, size - 1) };
}

/** The entity tags of an `If-None-Match` or `If-Range` value, weakness dropped; ['*'] for `*`. */
function entityTags(header: string): string[] {
  if (header.trim() === '*') return ['*'];
  return [...header.matchAll(/(?:W\/)?"([^"]*)"/g)].map((m) => m[1]!);
}

/** `If-None-Match` holds this file's tag (weak comparison, as §13.1.2 asks): answer 304. */
export function notModified(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  const tags = entityTags(ifNoneMatch);
  return tags.includes('*') || tags.includes(etag);
}

/**
 * Whether a `Range` may be honoured under `If-Range`: only when it names this file's tag, strongly
 * (§13.1.5). A date never matches, as no Last-Modified is sent: the whole file then comes, and a
 * resumed download restarts rather than splice two versions of a file.
 */
export function rangeStillValid(ifRange: string | undefined, etag: string): boolean {
  if (ifRange === undefined) return true;
  const value = ifRange.trim();
  return value === `"${etag}"`;
}
