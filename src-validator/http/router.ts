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
  type ModelResponse,
} from '../../src-shared/protocol';
import { errorMessage } from '../../src-node/log';
import type { WeightsPublisher } from '../accounting/weights-publisher';
import { history, leaderboard, ledger, me } from '../service/accounts';
import type { ValidatorContext } from '../service/context';
import type { MinerRegistry } from '../service/miner-registry';
import { leaseTask } from '../service/leasing';
import { linkPayout, payoutChallenge } from '../service/payout';
import { submitResult } from '../service/submissions';
import { BodyBuffers } from './body-buffers';
import { JsonBody, leaseAnswerBody } from './json-body';
import { MODEL_FILES_PREFIX, StreamedAnswer, type ModelFileServer } from './model-files';
import { ProtocolError, refusalAnswer } from './protocol-error';
import { RequestRateLimiter } from './rate-limit';
import { readBody } from './read-body';
import { requireRegistered } from './registered-miners';
import { decodeSegment, echo, hasNul, parseRequestTarget, type RequestTarget } from './request-target';
import { authenticate, claimedKey, type SignedRequest } from './signed-request';
import { UploadSlots } from './upload-slots';

type Handler = (req: IncomingMessage, target: RequestTarget) => Promise<unknown>;
interface Route {
  method: 'GET' | 'POST' | 'GET|POST' | 'GET|HEAD';
  handle: Handler;
}

const RESULT_PATH = /^\/v1\/tasks\/([^/]+)\/result$/;

function parseJson<T extends z.ZodType>(schema: T, body: Buffer): z.infer<T> {
  let value: unknown;
  try {
    value = JSON.parse(body.length ? body.toString('utf8') : '{}', refuseNul);
  } catch (error) {
    if (error instanceof ProtocolError) throw error;
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

function refuseNul(_key: string, value: unknown): unknown {
  if (typeof value === 'string' && hasNul(value)) throw new ProtocolError('bad-request', 'A string in the body holds a NUL character.');
  return value;
}

function requireContentType(req: IncomingMessage, expected: string, required: boolean): void {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if ((required || type) && type !== expected) {
    throw new ProtocolError('unsupported-media-type', `This endpoint takes ${expected}${type ? `, not ${type}` : ''}.`);
  }
}

/** Called with each answered request's route and its time inside the validator, headers to last byte. */
export type RequestObserver = (route: string, ms: number) => void;

export interface RouterOptions {
  /** A request body (a result upload above all) must arrive whole within this; else 408 `too-slow`. */
  uploadDeadlineMs: number;
  /** Result uploads one key may have in flight; more get 429 `rate-limited`. */
  uploadsPerKey: number;
  /** Only these keys may lease and upload results (`--miners-from`); null: any key. */
  miners?: MinerRegistry | null;
  /** `GET /v1/model`'s answer (the teacher variants and where to get them). */
  modelCatalog: ModelResponse;
  /** Serves the variants' files; null when the validator serves none. */
  modelFiles: ModelFileServer | null;
  observe?: RequestObserver;
}

/** When a key holding all its upload slots may try again: about one upload's time on a good link. */
const UPLOAD_RETRY_AFTER_MS = 5000;

export function createRouter(
  ctx: ValidatorContext,
  weights: WeightsPublisher,
  { uploadDeadlineMs, uploadsPerKey, miners = null, modelCatalog, modelFiles, observe }: RouterOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  const limits = new RequestRateLimiter(ctx.settings.rateLimits, ctx.clock);
  const signed = async (req: IncomingMessage, limitBytes: number): Promise<SignedRequest> =>
    limits.charged(await authenticate(req, await readBody(req, limitBytes, null, uploadDeadlineMs), ctx.store, ctx.clock()));

  // Encoded once: it changes only with a restart.
  const catalogBody = new JsonBody([Buffer.from(JSON.stringify(modelCatalog))]);
  const files: Route = {
    method: 'GET|HEAD',
    handle: async (req, target) => {
      if (!modelFiles)
        throw new ProtocolError('not-found', `This validator serves no model files; GET ${API.model} lists where to get them.`);
      return modelFiles.answer(req, target.path);
    },
  };

  const routes: Record<string, Route> = {
    [API.health]: {
      method: 'GET',
      handle: async (): Promise<HealthResponse> => ({
        ok: true,
        protocol: PROTOCOL_VERSION,
        modelHash: ctx.settings.modelHash,
        demo: ctx.settings.allowDemoModel,
        nowMs: Math.floor(ctx.clock()),
        variants: ctx.settings.variants.map((v) => v.id),
      }),
    },
    [API.model]: { method: 'GET|HEAD', handle: async () => catalogBody },
    [API.leaderboard]: { method: 'GET', handle: async (_req, target) => leaderboard(ctx, target.query) },
    [API.weights]: { method: 'GET', handle: async () => weights.current() },
    [API.lease]: {
      method: 'POST',
      handle: async (req) => {
        requireContentType(req, 'application/json', false);
        const s = await signed(req, MAX_JSON_BODY_BYTES);
        requireRegistered(miners, s.miner);
        const answer = await leaseTask(ctx, s.miner, parseJson(LeaseRequest, s.body), req.socket.remoteAddress ?? null);
        // A lease that brings work costs no rate: the lease cap bounds those already.
        if (answer.kind === 'task') limits.refund(s.miner);
        return leaseAnswerBody(answer);
      },
    },
    [API.me]: { method: 'GET', handle: async (req) => me(ctx, (await signed(req, MAX_JSON_BODY_BYTES)).miner) },
    [API.ledger]: {
      method: 'GET',
      handle: async (req, target) => ledger(ctx, (await signed(req, MAX_JSON_BODY_BYTES)).miner, target.query),
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
  const slots = new UploadSlots(uploadsPerKey);
  const submit: Route = {
    method: 'POST',
    handle: async (req, target) => {
      requireContentType(req, SOFT_LABELS_CONTENT_TYPE, true);
      const taskId = decodeSegment(RESULT_PATH.exec(target.path)![1]!);
      const key = claimedKey(req);
      // Before the body: an unregistered key's megabytes are not worth reading. The claim is
      // unproven here, but a forged registered key still has to pass the signature below.
      requireRegistered(miners, key);
      const releaseSlot = slots.take(key);
      if (!releaseSlot) {
        throw new ProtocolError(
          'rate-limited',
          `${key} already has ${uploadsPerKey} result uploads in flight; send this one when one of them is answered.`,
          UPLOAD_RETRY_AFTER_MS,
        );
      }
      try {
        const received = await readBody(req, MAX_RESULT_BODY_BYTES, uploads, uploadDeadlineMs);
        try {
          const s = limits.charged(await authenticate(req, received, ctx.store, ctx.clock()));
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
      } finally {
        releaseSlot();
      }
    },
  };

  const answer = async (req: IncomingMessage): Promise<unknown> => {
    limits.admit(req);
    const target = parseRequestTarget(req);
    const route = RESULT_PATH.test(target.path)
      ? submit
      : target.path.startsWith(MODEL_FILES_PREFIX)
        ? files
        : Object.hasOwn(routes, target.path)
          ? routes[target.path]
          : undefined;
    if (!route) throw new ProtocolError('not-found', `No endpoint ${echo(target.path)}; see docs/PROTOCOL.md.`);
    if (!route.method.split('|').includes(req.method ?? '')) {
      throw new ProtocolError('method-not-allowed', `${echo(target.path)} takes ${route.method.replace('|', ' or ')}, not ${req.method}.`);
    }
    return route.handle(req, target);
  };

  return (req, res) => {
    const startedAt = performance.now();
    if (observe) res.once('finish', () => observe(routeName(req.url), performance.now() - startedAt));
    answer(req)
      .then(
        (value) => (value instanceof StreamedAnswer ? value.send(res) : send(res, 200, value)),
        (error: unknown) => {
          const refused = refusalAnswer(error);
          if (refused) return send(res, refused.status, refused.body, refused.headers);
          ctx.log.error(
            `${req.method} ${echo(req.url ?? '')} failed: ${error instanceof Error ? (error.stack ?? error.message) : errorMessage(error)}`,
          );
          send(res, 500, {
            error: { code: 'internal', message: 'The validator failed on this request; it changed nothing. Try again later.' },
          });
        },
      )
      // The last guard: an answer that cannot even be written ends the connection, never the process.
      .catch((error: unknown) => {
        ctx.log.error(`answering ${req.method} ${echo(req.url ?? '')} failed: ${errorMessage(error)}`);
        res.destroy();
      });
  };
}

/** The route an observed request counts under: results together, model files together, everything else by path. */
function routeName(url: string | undefined): string {
  const path = (url ?? '').split('?')[0]!;
  return RESULT_PATH.test(path) ? 'result' : path.startsWith(MODEL_FILES_PREFIX) ? 'model-file' : path;
}

function send(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  // Encoded once, to bytes: the length goes in the header, and the socket then copies bytes only.
  const body = value instanceof JsonBody ? value : new JsonBody([Buffer.from(JSON.stringify(value))]);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': body.bytes,
    'cache-control': 'no-store',
    ...headers,
    // Left open, Node would read and discard the rest of a body cut off at its deadline, byte by slow byte.
    ...(status === 408 ? { connection: 'close' } : {}),
  });
  res.cork();
  for (const piece of body.pieces) res.write(piece);
  res.uncork();
  res.end();
}
