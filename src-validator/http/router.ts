import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import {
  API,
  LeaseRequest,
  MAX_JSON_BODY_BYTES,
  MAX_RESULT_BODY_BYTES,
  PayoutLinkRequest,
  PROTOCOL_VERSION,
  SOFT_LABELS_CONTENT_TYPE,
  type HealthResponse,
} from '../../src-shared/protocol';
import { errorMessage } from '../../src-node/log';
import type { WeightsPublisher } from '../accounting/weights-publisher';
import { history, leaderboard, ledger, me } from '../service/accounts';
import type { ValidatorContext } from '../service/context';
import { leaseTask } from '../service/leasing';
import { linkPayout, payoutChallenge } from '../service/payout';
import { submitResult } from '../service/submissions';
import { BodyBuffers } from './body-buffers';
import { JsonBody, leaseAnswerBody } from './json-body';
import { ProtocolError, refusalAnswer } from './protocol-error';
import { RequestRateLimiter } from './rate-limit';
import { readBody } from './read-body';
import { authenticate, type SignedRequest } from './signed-request';

type Handler = (req: IncomingMessage, url: URL) => Promise<unknown>;
interface Route {
  method: 'GET' | 'POST' | 'GET|POST';
  handle: Handler;
}

const RESULT_PATH = /^\/v1\/tasks\/([^/]+)\/result$/;

function parseJson<T extends z.ZodType>(schema: T, body: Buffer): z.infer<T> {
  let value: unknown;
  try {
    value = JSON.parse(body.length ? body.toString('utf8') : '{}');
  } catch {
    throw new ProtocolError('bad-request', 'The body is not valid JSON.');
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ProtocolError(
      'bad-request',
      `The body does not match the endpoint: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}.`,
    );
  }
  return parsed.data;
}

function requireContentType(req: IncomingMessage, expected: string, required: boolean): void {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if ((required || type) && type !== expected) {
    throw new ProtocolError('unsupported-media-type', `This endpoint takes ${expected}${type ? `, not ${type}` : ''}.`);
  }
}

/** Called with each answered request's route and its time inside the validator, headers to last byte. */
export type RequestObserver = (route: string, ms: number) => void;

export function createRouter(
  ctx: ValidatorContext,
  weights: WeightsPublisher,
  observe?: RequestObserver,
): (req: IncomingMessage, res: ServerResponse) => void {
  const limits = new RequestRateLimiter(ctx.settings.rateLimits, ctx.clock);
  const signed = async (req: IncomingMessage, limitBytes: number): Promise<SignedRequest> =>
    limits.charged(await authenticate(req, await readBody(req, limitBytes), ctx.store, ctx.clock()));

  const routes: Record<string, Route> = {
    [API.health]: {
      method: 'GET',
      handle: async (): Promise<HealthResponse> => ({
        ok: true,
        protocol: PROTOCOL_VERSION,
        modelHash: ctx.settings.modelHash,
        demo: ctx.settings.allowDemoModel,
        nowMs: Math.floor(ctx.clock()),
      }),
    },
    [API.leaderboard]: { method: 'GET', handle: async (_req, url) => leaderboard(ctx, url.searchParams) },
    [API.weights]: { method: 'GET', handle: async () => weights.current() },
    [API.lease]: {
      method: 'POST',
      handle: async (req) => {
        requireContentType(req, 'application/json', false);
        const s = await signed(req, MAX_JSON_BODY_BYTES);
        const answer = await leaseTask(ctx, s.miner, parseJson(LeaseRequest, s.body));
        if (answer.kind === 'task') limits.refund(s.miner);
        return leaseAnswerBody(answer);
      },
    },
    [API.me]: { method: 'GET', handle: async (req) => me(ctx, (await signed(req, MAX_JSON_BODY_BYTES)).miner) },
    [API.ledger]: {
      method: 'GET',
      handle: async (req, url) => ledger(ctx, (await signed(req, MAX_JSON_BODY_BYTES)).miner, url.searchParams),
    },
    [API.history]: { method: 'GET', handle: async (req) => history(ctx, (await signed(req, MAX_JSON_BODY_BYTES)).miner) },
    [API.payoutChallenge]: {
      method: 'GET|POST',
      handle: async (req) => payoutChallenge(ctx, (await signed(req, MAX_JSON_BODY_BYTES)).miner),
    },
    [API.payoutLink]: {
      method: 'POST',
      handle: async (req) => {
        requireContentType(req, 'application/json', false);
        const s = await signed(req, MAX_JSON_BODY_BYTES);
        return linkPayout(ctx, s.miner, parseJson(PayoutLinkRequest, s.body));
      },
    },
  };

  const uploads = new BodyBuffers();
  const submit: Route = {
    method: 'POST',
    handle: async (req, url) => {
      requireContentType(req, SOFT_LABELS_CONTENT_TYPE, true);
      const received = await readBody(req, MAX_RESULT_BODY_BYTES, uploads);
      try {
        const s = limits.charged(await authenticate(req, received, ctx.store, ctx.clock()));
        const taskId = decodeURIComponent(RESULT_PATH.exec(url.pathname)![1]!);
        const answer = await submitResult(ctx, {
          miner: s.miner,
          taskId,
          body: s.body,
          bodyPieces: received.pieces,
          bodySha256: s.bodySha256,
        });
        limits.refund(s.miner);
        return answer;
      } finally {
        // submitResult keeps no view of the bytes once it has answered (the store copied or wrote them).
        received.release();
      }
    },
  };

  return (req, res) => {
    const startedAt = performance.now();
    const url = new URL(req.url ?? '/', 'http://validator');
    const isSubmit = RESULT_PATH.test(url.pathname);
    const route = isSubmit ? submit : routes[url.pathname];
    if (observe) res.once('finish', () => observe(isSubmit ? 'result' : url.pathname, performance.now() - startedAt));
    const run = async (): Promise<unknown> => {
      limits.admit(req);
      if (!route) throw new ProtocolError('not-found', `No endpoint ${url.pathname}; see docs/PROTOCOL.md.`);
      if (!route.method.split('|').includes(req.method ?? '')) {
        throw new ProtocolError('method-not-allowed', `${url.pathname} takes ${route.method.replace('|', ' or ')}, not ${req.method}.`);
      }
      return route.handle(req, url);
    };
    run().then(
      (value) => send(res, 200, value),
      (error: unknown) => {
        const refused = refusalAnswer(error);
        if (refused) return send(res, refused.status, refused.body, refused.headers);
        ctx.log.error(
          `${req.method} ${url.pathname} failed: ${error instanceof Error ? (error.stack ?? error.message) : errorMessage(error)}`,
        );
        send(res, 500, {
          error: { code: 'internal', message: 'The validator failed on this request; it changed nothing. Try again later.' },
        });
      },
    );
  };
}

function send(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  // Encoded once, to bytes: the length goes in the header, and the socket then copies bytes only.
  const body = value instanceof JsonBody ? value : new JsonBody([Buffer.from(JSON.stringify(value))]);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': body.bytes, 'cache-control': 'no-store', ...headers });
  res.cork();
  for (const piece of body.pieces) res.write(piece);
  res.uncork();
  res.end();
}
