import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { API, SOFT_LABELS_CONTENT_TYPE, type LeaseResponse, type MeResponse } from '../../src-shared/protocol';
import { verifyRequestSignature } from '../../src-shared/request-signing';

export interface ReceivedRequest {
  method: string;
  path: string;
  address: string | null;
  contentType: string | undefined;
  body: Buffer;
}

type Answer = { status: number; json?: unknown; raw?: string; headers?: Record<string, string> };

/**
 * A validator that speaks protocol v1 just enough for the client's tests: it checks every
 * signature with the shared verifier and refuses replayed nonces, and answers results
 * idempotently (the same bytes again get the first answer; different bytes get 409 duplicate).
 */
export class FakeValidator {
  readonly received: ReceivedRequest[] = [];
  readonly signatureFailures: string[] = [];
  /** Answers for POST /v1/lease, used in order; the last one repeats. */
  leaseAnswers: Answer[] = [{ status: 200, json: { kind: 'no-work', retryAfterMs: 5000 } satisfies LeaseResponse }];
  /** Overrides the result endpoint's answer (the default is the idempotent store). */
  resultAnswer: ((taskId: string, body: Buffer) => Answer | null) | null = null;
  meAnswer: Answer = { status: 200, json: sampleMe() };
  /** When set, a result request is read and stored, then its answer waits for `release()`. */
  holdResults = false;
  readonly stored = new Map<string, { sha256: string; answer: Answer }>();
  private readonly seenNonces = new Set<string>();
  private held: (() => void)[] = [];
  private server: Server | null = null;
  private portNumber = 0;

  constructor(private readonly now: () => number = Date.now) {}

  get baseUrl(): string {
    return `http://127.0.0.1:${this.portNumber}`;
  }

  results(taskId?: string): ReceivedRequest[] {
    return this.received.filter((r) => r.path.startsWith('/v1/tasks/') && (!taskId || r.path === API.result(taskId)));
  }

  /** Listens on the same port again after `stop()`, so a client sees the same validator come back. */
  async start(): Promise<void> {
    const server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.portNumber, '127.0.0.1', () => resolve());
    });
    this.portNumber = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    this.release();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  release(): void {
    for (const go of this.held.splice(0)) go();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const check = verifyRequestSignature(req.headers, method, path, body, this.now());
    const record: ReceivedRequest = {
      method,
      path,
      address: check.ok ? check.address : null,
      contentType: req.headers['content-type'],
      body,
    };
    const publicPath = path === API.health || path.startsWith(API.leaderboard);
    if (!publicPath) {
      if (!check.ok) {
        this.signatureFailures.push(`${check.code}: ${check.message}`);
        return send(res, { status: 401, json: { error: { code: check.code, message: check.message } } });
      }
      if (this.seenNonces.has(check.nonce)) {
        return send(res, { status: 401, json: { error: { code: 'replayed', message: 'nonce already used' } } });
      }
      this.seenNonces.add(check.nonce);
    }
    this.received.push(record);
    if (method === 'POST' && path === API.lease) {
      const answer = this.leaseAnswers.length > 1 ? this.leaseAnswers.shift()! : this.leaseAnswers[0]!;
      return send(res, answer);
    }
    if (method === 'GET' && path === API.me) return send(res, this.meAnswer);
    const result = /^\/v1\/tasks\/([^/]+)\/result$/.exec(path);
    if (method === 'POST' && result) {
      const taskId = decodeURIComponent(result[1]!);
      if (record.contentType !== SOFT_LABELS_CONTENT_TYPE) {
        return send(res, { status: 415, json: { error: { code: 'unsupported-media-type', message: 'want soft labels' } } });
      }
      const answer = this.resultAnswer?.(taskId, body) ?? this.storeResult(taskId, body);
      if (this.holdResults) await new Promise<void>((resolve) => this.held.push(resolve));
      return send(res, answer);
    }
    return send(res, { status: 404, json: { error: { code: 'not-found', message: `no route ${method} ${path}` } } });
  }

  private storeResult(taskId: string, body: Buffer): Answer {
    const sha256 = createHash('sha256').update(body).digest('hex');
    const first = this.stored.get(taskId);
    if (!first) {
      const answer = { status: 200, json: { status: 'accepted' } };
      this.stored.set(taskId, { sha256, answer });
      return answer;
    }
    if (first.sha256 === sha256) return first.answer;
    return { status: 409, json: { error: { code: 'duplicate', message: `a different result for ${taskId} was already submitted` } } };
  }
}

function send(res: ServerResponse, answer: Answer): void {
  if (res.destroyed) return;
  const text = answer.raw ?? JSON.stringify(answer.json);
  res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
  res.end(text);
}

export function sampleMe(): MeResponse {
  return {
    address: '5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV',
    name: 'test rig',
    validatedTokens: 12_345,
    pendingTokens: 678,
    rejectedTokens: 9,
    earnedNano: '1500000000',
    epochShare: 0.25,
    streak: 4,
    payoutAddress: null,
  };
}
