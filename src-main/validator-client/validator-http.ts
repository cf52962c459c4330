import { u8aToHex } from '@polkadot/util';
import type { z } from 'zod';
import { ErrorBody, HEADER_KEY, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIMESTAMP } from '../../src-shared/protocol';
import { newNonce, signingMessage, type BodyDigest } from '../../src-shared/request-signing';
import { errorMessage } from '../../src-node/log';
import type { RequestSigner } from '../../src-shared/request-signer';

/**
 * Why a call to the validator did not give a usable answer, sorted by what the caller should do:
 * `unreachable` (network error, timeout, 5xx, 429) → wait and retry, the data is fine;
 * `refused` (any other 4xx) → the validator understood and said no, `code` says why;
 * `bad-response` → it answered with something this client cannot read.
 */
export type ValidatorFailure =
  | { kind: 'unreachable'; message: string; retryAfterMs: number | null }
  | { kind: 'refused'; status: number; code: string; message: string }
  | { kind: 'bad-response'; message: string };

export class ValidatorError extends Error {
  constructor(readonly failure: ValidatorFailure) {
    super(failure.message);
    this.name = 'ValidatorError';
  }
}

/** The failure a rejected validator call carries, or null when the error is something else. */
export function validatorFailureOf(error: unknown): ValidatorFailure | null {
  return error instanceof ValidatorError ? error.failure : null;
}

export interface ValidatorCall<T> {
  method: 'GET' | 'POST';
  pathWithQuery: string;
  schema: z.ZodType<T>;
  body?: Uint8Array;
  /** The body's SHA-256 when the caller already has it (large result bundles). */
  bodyDigest?: BodyDigest;
  contentType?: string;
  signed: boolean;
  signal?: AbortSignal;
}

export interface ValidatorHttpOptions {
  baseUrl: string;
  signer: RequestSigner;
  fetch: typeof globalThis.fetch;
  now: () => number;
  timeoutMs: number;
}

/** Retry-After is seconds or an HTTP date (RFC 9110 §10.2.3); a long one is capped at 15 minutes. */
function parseRetryAfterMs(value: string | null, nowMs: number): number | null {
  if (!value) return null;
  const capMs = 15 * 60_000;
  if (/^\d+$/.test(value.trim())) return Math.min(capMs, Number(value.trim()) * 1000);
  const atMs = Date.parse(value);
  return Number.isNaN(atMs) ? null : Math.min(capMs, Math.max(0, atMs - nowMs));
}

const EMPTY = new Uint8Array(0);
/** Node types the request body with DOM names this DOM-free tsconfig lacks; take the type from fetch itself. */
type FetchBody = NonNullable<Parameters<typeof globalThis.fetch>[1]>['body'];

/** One signed HTTP exchange with the validator, its answer parsed with the protocol's schema. */
export class ValidatorHttp {
  private readonly base: string;

  constructor(private readonly o: ValidatorHttpOptions) {
    this.base = o.baseUrl.replace(/\/+$/, '');
  }

  get baseUrl(): string {
    return this.base;
  }

  async call<T>(call: ValidatorCall<T>): Promise<T> {
    const url = `${this.base}${call.pathWithQuery}`;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (call.contentType) headers['content-type'] = call.contentType;
    if (call.signed) Object.assign(headers, this.signatureHeaders(call, new URL(url)));
    const timeout = AbortSignal.timeout(this.o.timeoutMs);
    const signal = call.signal ? AbortSignal.any([call.signal, timeout]) : timeout;
    let response: Response;
    let text: string;
    try {
      response = await this.o.fetch(url, { method: call.method, headers, body: call.body as FetchBody, signal });
      text = await response.text();
    } catch (error) {
      if (call.signal?.aborted) throw call.signal.reason ?? error;
      const reason = timeout.aborted ? `no answer within ${Math.round(this.o.timeoutMs / 1000)} s` : networkReason(error);
      throw new ValidatorError({
        kind: 'unreachable',
        message: `The validator at ${this.base} cannot be reached: ${reason}.`,
        retryAfterMs: null,
      });
    }
    if (response.ok) return this.parseAnswer(call, text);
    const problem = parseErrorBody(text);
    const label = `${call.method} ${call.pathWithQuery.split('?')[0]}`;
    if (response.status === 429 || response.status >= 500) {
      throw new ValidatorError({
        kind: 'unreachable',
        message: `The validator at ${this.base} is busy or failing (HTTP ${response.status}${problem ? `, ${problem.code}: ${problem.message}` : ''}).`,
        retryAfterMs: parseRetryAfterMs(response.headers.get('retry-after'), this.o.now()),
      });
    }
    throw new ValidatorError({
      kind: 'refused',
      status: response.status,
      code: problem?.code ?? `http-${response.status}`,
      message: `The validator refused ${label} (${problem ? `${problem.code}: ${problem.message}` : `HTTP ${response.status}`}).`,
    });
  }

  private signatureHeaders(call: ValidatorCall<unknown>, url: URL): Record<string, string> {
    // The validator verifies against the path it receives, so sign the path as it goes on the wire.
    const pathWithQuery = `${url.pathname}${url.search}`;
    const timestampMs = Math.floor(this.o.now());
    const nonce = newNonce();
    const message = signingMessage(call.method, pathWithQuery, timestampMs, nonce, call.bodyDigest ?? call.body ?? EMPTY);
    return {
      [HEADER_KEY]: this.o.signer.address,
      [HEADER_TIMESTAMP]: String(timestampMs),
      [HEADER_NONCE]: nonce,
      [HEADER_SIGNATURE]: u8aToHex(this.o.signer.sign(message)),
    };
  }

  private parseAnswer<T>(call: ValidatorCall<T>, text: string): T {
    const label = `${call.method} ${call.pathWithQuery.split('?')[0]}`;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new ValidatorError({
        kind: 'bad-response',
        message: `The validator answered ${label} with something that is not JSON (${text.slice(0, 80)}).`,
      });
    }
    const parsed = call.schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? issue.path.join('.') : 'the answer';
      throw new ValidatorError({
        kind: 'bad-response',
        message: `The validator's answer to ${label} does not follow protocol v1 (${where}: ${issue?.message ?? 'invalid'}); is the URL a Nya validator of a compatible version?`,
      });
    }
    return parsed.data;
  }
}

function parseErrorBody(text: string): { code: string; message: string } | null {
  try {
    const parsed = ErrorBody.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data.error : null;
  } catch {
    return null;
  }
}

/** Node's fetch says "fetch failed" and hides the useful part (ECONNREFUSED, ENOTFOUND) in `cause`. */
function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return cause.message ? `${cause.code} (${cause.message})` : cause.code;
  return errorMessage(error);
}
