import type { IncomingMessage } from 'node:http';
import { ProtocolError } from './protocol-error';

/** What the router reads of a request's target: its path exactly as sent, and its query. */
export interface RequestTarget {
  path: string;
  query: URLSearchParams;
}

/**
 * More header lines than any miner sends (about ten). Node keeps at most `maxHeadersCount` of them
 * and drops the rest without a word, so the server keeps one more than this and refuses a request
 * that filled them: a request is either read whole or refused.
 */
export const MAX_HEADER_LINES = 100;

/** Longest path or Host echoed back in an error message. */
const ECHO_CHARS = 120;

/**
 * The request's target, parsed without trusting anything in it. Only origin-form (`/path?query`)
 * is served: the validator is no proxy, so absolute-form (`http://host/path`) and `*` are refused,
 * and the path is taken as sent rather than through `new URL`, which would read `//x:99999/...`
 * as an authority (and throw on it). Host must be one valid authority (RFC 9112 §3.2: a server
 * answers 400 to a missing, repeated or invalid Host); it is checked, never used.
 */
export function parseRequestTarget(req: IncomingMessage): RequestTarget {
  if (req.rawHeaders.length / 2 > MAX_HEADER_LINES) throw badRequest(`A request may carry at most ${MAX_HEADER_LINES} header lines.`);
  checkHost(req);
  const raw = req.url ?? '';
  if (!raw.startsWith('/')) throw badRequest(`The request target must be a path starting with /, not '${echo(raw)}'.`);
  const mark = raw.indexOf('?');
  if (mark < 0) return { path: raw, query: new URLSearchParams() };
  // URLSearchParams decodes leniently (a bad escape stays as written), so it cannot throw.
  const query = new URLSearchParams(raw.slice(mark + 1));
  for (const [name, value] of query) if (hasNul(name) || hasNul(value)) throw badRequest('The query holds a NUL character (%00).');
  return { path: raw.slice(0, mark), query };
}

/** PostgreSQL text cannot hold NUL: one reaching a query would fail it (a 500), so it is refused at the edge. */
export function hasNul(text: string): boolean {
  return text.includes('\0');
}

function checkHost(req: IncomingMessage): void {
  let count = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i]!.toLowerCase() === 'host') count++;
  if (count > 1) throw badRequest('The request has more than one Host header.');
  const host = req.headers.host;
  // HTTP/1.0 has no Host requirement (Node itself refuses an HTTP/1.1 request without one).
  if (host === undefined) return;
  if (!isAuthority(host)) throw badRequest(`The Host header '${echo(host)}' is not a host with an optional port.`);
}

/** host[:port] as RFC 3986 has it, without userinfo: what `new URL` accepts as exactly that. */
function isAuthority(host: string): boolean {
  if (host === '' || /[@/\\?#\s]/.test(host)) return false;
  try {
    new URL(`http://${host}/`);
    return true;
  } catch {
    return false;
  }
}

/** A path segment, %-decoded; a malformed escape is the client's mistake (400), not a failure. */
export function decodeSegment(segment: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    throw badRequest(`'${echo(segment)}' is not a valid %-encoded path segment.`);
  }
  if (hasNul(decoded)) throw badRequest('The path holds a NUL character (%00).');
  return decoded;
}

function badRequest(message: string): ProtocolError {
  return new ProtocolError('bad-request', message);
}

/** An attacker-chosen string, short enough to quote in a message. */
export function echo(text: string): string {
  return text.length > ECHO_CHARS ? `${text.slice(0, ECHO_CHARS)}…` : text;
}
