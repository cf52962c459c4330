import { connect, type Socket } from 'node:net';
import { HEADER_KEY, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIMESTAMP, SOFT_LABELS_CONTENT_TYPE } from '../../src-shared/protocol';
import { newNonce, sha256Hex } from '../../src-shared/request-signing';
import { signFast, type SimMiner } from '../../src-validator/bench/sim/sim-miner';

/** What came back on one raw connection: every response's status (pipelined answers too), and the bytes. */
export interface RawAnswer {
  statuses: number[];
  raw: string;
  /** Nothing came back within the wait: the server neither answered nor closed. */
  timedOut: boolean;
}

/** `url`'s port on 127.0.0.1. */
export function portOf(url: string): number {
  return Number(new URL(url).port);
}

/** Status lines only start lines: every validator body is one line of JSON, and the parser's own answers are bodyless or short text. */
function statusesOf(raw: string): number[] {
  return [...raw.matchAll(/^HTTP\/1\.[01] (\d{3}) /gm)].map((m) => Number(m[1]));
}

/** Whether `raw` is whole responses only: each head complete and followed by its `content-length` of body. */
function wholeResponses(raw: Buffer): boolean {
  let at = 0;
  while (at < raw.length) {
    const headEnd = raw.indexOf('\r\n\r\n', at);
    if (headEnd < 0) return false;
    const head = raw.subarray(at, headEnd).toString('latin1');
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
    at = headEnd + 4 + length;
  }
  return at === raw.length && raw.length > 0;
}

export interface ExchangeOptions {
  /** Give up (timedOut) when the server has neither answered nor closed by then. */
  waitMs?: number;
  /**
   * Half-close the connection when no whole answer came by then, so a request whose body is
   * shorter than it declared ends. Not at once: Node's server abandons the requests of a client
   * that half-closes, so one still being answered (a database query) would get no answer.
   */
  endAfterMs?: number;
}

/**
 * Writes `request` bytes as they are on a fresh connection and collects what comes back: until
 * the server closes, or until whole answers have come and nothing more follows for a moment.
 */
export function rawExchange(
  port: number,
  request: Buffer | string,
  { waitMs = 5_000, endAfterMs = 1_000 }: ExchangeOptions = {},
): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let done = false;
    let settle: NodeJS.Timeout | undefined;
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    const finish = (timedOut: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(ender);
      clearTimeout(settle);
      socket.destroy();
      const raw = Buffer.concat(chunks).toString('latin1');
      resolve({ statuses: statusesOf(raw), raw, timedOut });
    };
    const timer = setTimeout(() => finish(true), waitMs);
    const ender = setTimeout(() => socket.end(), endAfterMs);
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      clearTimeout(settle);
      if (wholeResponses(Buffer.concat(chunks))) settle = setTimeout(() => finish(false), 30);
    });
    socket.on('error', () => finish(false));
    socket.on('close', () => finish(false));
  });
}

/** A connection kept open: write at will, read what came back, see whether the server closed it. */
export class OpenConnection {
  private readonly socket: Socket;
  private readonly chunks: Buffer[] = [];
  closed = false;
  readonly ready: Promise<void>;

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.ready = new Promise((resolve) => this.socket.once('connect', () => resolve()));
    this.socket.on('data', (c: Buffer) => this.chunks.push(c));
    this.socket.on('error', () => (this.closed = true));
    this.socket.on('close', () => (this.closed = true));
  }

  write(bytes: Buffer | string): void {
    if (!this.closed) this.socket.write(bytes);
  }

  get statuses(): number[] {
    return statusesOf(Buffer.concat(this.chunks).toString('latin1'));
  }

  get raw(): string {
    return Buffer.concat(this.chunks).toString('latin1');
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Signature headers of a well-formed shape for `miner`; signed over `target` and `body` when `valid`. */
export function signatureHeaders(
  miner: SimMiner,
  method: string,
  target: string,
  body: Uint8Array,
  nowMs: number,
  valid = true,
): Record<string, string> {
  if (valid) return signFast(miner.pair, method, target, { sha256Hex: sha256Hex(body) }, nowMs);
  return {
    [HEADER_KEY]: miner.address,
    [HEADER_TIMESTAMP]: String(Math.floor(nowMs)),
    [HEADER_NONCE]: newNonce(),
    [HEADER_SIGNATURE]: `0x${'ab'.repeat(64)}`,
  };
}

/** The head of an HTTP/1.1 request, headers in order as given (duplicates allowed). */
export function requestHead(method: string, target: string, headers: [string, string][]): string {
  return `${method} ${target} HTTP/1.1\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
}

/** The head of a result upload of `length` bytes for `taskId`, with `miner`'s signature headers (not verifiable: the body is unknown). */
export function uploadHead(miner: SimMiner, taskId: string, length: number, nowMs: number): string {
  const target = `/v1/tasks/${taskId}/result`;
  const sig = signatureHeaders(miner, 'POST', target, new Uint8Array(0), nowMs, false);
  return requestHead('POST', target, [
    ['host', '127.0.0.1'],
    ['content-type', SOFT_LABELS_CONTENT_TYPE],
    ['content-length', String(length)],
    ...Object.entries(sig),
  ]);
}

export async function sleepMs(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}
