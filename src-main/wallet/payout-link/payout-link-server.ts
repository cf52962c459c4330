import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { SS58_PREFIX } from '../../../src-shared/protocol';
import { LINK_PAGE_SCRIPT_PATH, LINK_PAGE_STYLE_PATH, type LinkPageAnswer } from '../../../src-shared/payout-link-page';
import { distPath } from '../../../src-node/app-paths';
import { errorMessage, type Logger } from '../../../src-node/log';
import { LINK_PAGE_STYLE, renderGonePage, renderLinkPage } from './link-page';
import { PayoutLinkError, type PayoutChallenge, type PayoutLinker } from './payout-linker';

export interface PayoutLinkServerOptions {
  linker: PayoutLinker;
  miningAddress: () => string | null;
  log: Logger;
  appName?: string;
  now?: () => number;
  /** Called once a page's signature linked the address. */
  onLinked?: (payoutAddress: string) => void;
  /** The page's built browser script; dist/link-page/link-page.js (scripts/build.mjs) by default. */
  scriptFile?: string;
}

interface OpenPage {
  challenge: PayoutChallenge;
  suggestedAddress: string | null;
}

const SubmitBody = z.strictObject({ payoutAddress: z.string().max(100), signature: z.string().max(300) });
const MAX_BODY_BYTES = 4096;

// The token rides in the URL: no referrer may carry it off, no cache may keep the page.
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

/**
 * Serves the one-time payout link page on 127.0.0.1: a random 256-bit path token per page, dead
 * when its challenge expires, after a link, or after any attempt the validator saw (the validator
 * spends the challenge then). The Host and Origin checks keep other sites (and DNS rebinding)
 * from posting to it; the page itself talks only to this server and the wallet extension.
 */
export class PayoutLinkServer {
  private server: Server | null = null;
  private script = '';
  private origin = '';
  private readonly pages = new Map<string, OpenPage>();
  private readonly now: () => number;

  constructor(private readonly o: PayoutLinkServerOptions) {
    this.now = o.now ?? Date.now;
  }

  async start(): Promise<void> {
    if (this.server) return;
    this.script = await readPageScript(this.o.scriptFile ?? distPath('link-page', 'link-page.js'));
    const server = createServer((req, res) => {
      this.handle(req, res).catch((error) => {
        this.o.log.error(`payout link page: ${errorMessage(error)}`);
        if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'Internal error.');
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    this.server = server;
  }

  async dispose(): Promise<void> {
    const server = this.server;
    this.server = null;
    this.pages.clear();
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /** Opens a page for the challenge and returns its URL; an older open page stops working. */
  open(challenge: PayoutChallenge, suggestedAddress: string | null = null): string {
    if (!this.server) throw new Error('The payout link server is not started.');
    this.pages.clear();
    const token = randomBytes(32).toString('base64url');
    this.pages.set(token, { challenge, suggestedAddress });
    return `${this.origin}/link/${token}`;
  }

  private live(token: string): OpenPage | null {
    const page = this.pages.get(token);
    if (!page) return null;
    // The challenge is spent (linked from the app's paste form, say) or expired: the page dies with it.
    if (page.challenge.expiresAtMs <= this.now() || !this.o.linker.challenge(page.challenge.challengeId)) {
      this.pages.delete(token);
      return null;
    }
    return page;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.headers.host !== this.origin.slice('http://'.length)) return send(res, 421, 'text/plain; charset=utf-8', 'Wrong host.');
    const path = new URL(req.url ?? '/', this.origin).pathname;
    if (req.method === 'GET' && path === LINK_PAGE_SCRIPT_PATH) return send(res, 200, 'text/javascript; charset=utf-8', this.script);
    if (req.method === 'GET' && path === LINK_PAGE_STYLE_PATH) return send(res, 200, 'text/css; charset=utf-8', LINK_PAGE_STYLE);
    const match = /^\/link\/([A-Za-z0-9_-]{43})(\/submit)?$/.exec(path);
    if (!match) return send(res, 404, 'text/plain; charset=utf-8', 'Not found.');
    const token = match[1]!;
    if (!match[2]) {
      if (req.method !== 'GET') return send(res, 405, 'text/plain; charset=utf-8', 'Method not allowed.');
      return this.page(res, token);
    }
    if (req.method !== 'POST') return send(res, 405, 'text/plain; charset=utf-8', 'Method not allowed.');
    return this.submit(req, res, token);
  }

  private page(res: ServerResponse, token: string): void {
    const page = this.live(token);
    const miningAddress = this.o.miningAddress();
    if (!page || !miningAddress) return send(res, 410, 'text/html; charset=utf-8', renderGonePage());
    const html = renderLinkPage({
      appName: this.o.appName ?? 'Nya Miner',
      miningAddress,
      message: page.challenge.message,
      challengeId: page.challenge.challengeId,
      expiresAtMs: page.challenge.expiresAtMs,
      submitPath: `/link/${token}/submit`,
      suggestedAddress: page.suggestedAddress,
      ss58Prefix: SS58_PREFIX,
    });
    send(res, 200, 'text/html; charset=utf-8', html);
  }

  private async submit(req: IncomingMessage, res: ServerResponse, token: string): Promise<void> {
    // fetch() from our page always sends Origin on a POST; anything else is another site or a tool.
    if (req.headers.origin !== this.origin) return sendJson(res, 403, failure('forbidden', 'Only the link page itself may submit.', false));
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
      return sendJson(res, 415, failure('bad-request', 'The signature must be sent as JSON.', true));
    }
    const page = this.live(token);
    if (!page) return sendJson(res, 410, failure('challenge-expired', 'This link page expired or was already used.', false));
    let body: z.infer<typeof SubmitBody>;
    try {
      const parsed = SubmitBody.safeParse(JSON.parse(await readBody(req)));
      if (!parsed.success)
        return sendJson(res, 400, failure('bad-request', 'The page sent a body without payoutAddress and signature.', true));
      body = parsed.data;
    } catch (error) {
      return sendJson(res, 400, failure('bad-request', errorMessage(error), true));
    }
    try {
      const linked = await this.o.linker.submit({ ...body, challengeId: page.challenge.challengeId });
      this.pages.delete(token);
      this.o.log.info(`payout address ${linked.payoutAddress} linked from the link page (${linked.signedForm} signature)`);
      this.o.onLinked?.(linked.payoutAddress);
      return sendJson(res, 200, { ok: true, payoutAddress: linked.payoutAddress } satisfies LinkPageAnswer);
    } catch (error) {
      const retry = error instanceof PayoutLinkError && error.challengeStillUsable;
      if (!retry) this.pages.delete(token);
      const code = error instanceof PayoutLinkError ? error.code : 'internal';
      return sendJson(res, error instanceof PayoutLinkError ? 400 : 500, failure(code, errorMessage(error), retry));
    }
  }
}

function failure(code: string, message: string, retry: boolean): LinkPageAnswer {
  return { ok: false, error: { code, message }, retry };
}

/** Read once at start: the page is served from memory, and a missing build fails the link up front, not in the browser. */
async function readPageScript(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new Error(`The payout link page's script ${file} cannot be read (${errorMessage(error)}); build it with \`npm run build\`.`);
  }
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error(`The body is larger than ${MAX_BODY_BYTES} bytes.`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
