import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { WS_MAX_MESSAGE_BYTES, WsClientMessage, type WsServerMessage } from '../../src-shared/ipc';
import type { StateSnapshot } from '../../src-shared/state';
import type { Event } from '../../src-node/event';
import type { IpcRouter } from '../ipc/router';
import type { Logger } from '../../src-node/log';

export interface DashboardServerOptions {
  /** 0 picks a free port. */
  port: number;
  staticDir: string;
  router: IpcRouter;
  getState: () => StateSnapshot;
  onState: Event<StateSnapshot>;
  log: Logger;
  /** Given by tests; otherwise a fresh random secret per run. */
  token?: string;
  /** Extra authenticated GET routes, e.g. `/metrics`. */
  routes?: Record<string, () => Promise<{ contentType: string; body: string }>>;
}

export interface DashboardServer {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const HOST = '127.0.0.1';
const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
  '.woff2': 'font/woff2',
};
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

/**
 * The headless dashboard: the built renderer over HTTP and the IPC contract over a WebSocket, on
 * loopback only. Like Jupyter, a per-run secret in the printed URL is what lets a page or script
 * in: without it the API, metrics and WebSocket answer 401. The Host header must name loopback
 * (so DNS rebinding cannot reach it) and a browser's Origin must be this server's own.
 */
export async function startDashboardServer(o: DashboardServerOptions): Promise<DashboardServer> {
  const token = o.token ?? randomBytes(24).toString('base64url');
  const log = o.log;
  let port = o.port;

  const hostAllowed = (req: IncomingMessage) => {
    const host = (req.headers.host ?? '').toLowerCase();
    return host === `${HOST}:${port}` || host === `localhost:${port}`;
  };
  const originAllowed = (req: IncomingMessage) => {
    const origin = req.headers.origin;
    // Scripts (curl, monitoring) send no Origin; they still need the token.
    return origin === undefined || origin === `http://${HOST}:${port}` || origin === `http://localhost:${port}`;
  };
  const tokenOf = (req: IncomingMessage, url: URL) => {
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ')) return auth.slice('Bearer '.length).trim();
    return url.searchParams.get('token');
  };
  const authorised = (req: IncomingMessage, url: URL) => {
    const given = tokenOf(req, url);
    if (!given) return false;
    const a = Buffer.from(given);
    const b = Buffer.from(token);
    return a.length === b.length && timingSafeEqual(a, b);
  };

  const server = createServer((req, res) => {
    void handle(req, res).catch((error) => {
      log.error(`dashboard request failed: ${(error as Error).message}`);
      if (!res.headersSent) sendJson(res, 500, { error: { code: 'internal', message: 'internal error' } });
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!hostAllowed(req)) return sendJson(res, 403, { error: { code: 'forbidden', message: 'host not allowed' } });
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return sendJson(res, 405, { error: { code: 'bad-request', message: 'only GET is served here' } });
    }
    const url = new URL(req.url ?? '/', `http://${HOST}:${port}`);
    const route = url.pathname === '/api/state' ? async () => ({ contentType: 'application/json', body: JSON.stringify(o.getState()) }) : o.routes?.[url.pathname];
    if (route) {
      if (!authorised(req, url)) {
        return sendJson(res, 401, { error: { code: 'forbidden', message: 'missing or wrong token; use the URL nya printed' } });
      }
      const { contentType, body } = await route();
      res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
      res.end(body);
      return;
    }
    serveStatic(url.pathname, res);
  }

  function serveStatic(pathname: string, res: ServerResponse): void {
    const root = resolve(o.staticDir);
    let rel: string;
    try {
      rel = decodeURIComponent(pathname);
    } catch {
      return sendJson(res, 400, { error: { code: 'bad-request', message: 'bad path' } });
    }
    const file = normalize(join(root, rel === '/' ? 'index.html' : rel));
    if (file !== root && !file.startsWith(root + sep)) {
      return sendJson(res, 404, { error: { code: 'not-found', message: 'not found' } });
    }
    const target = existsSync(file) && statSync(file).isFile() ? file : join(root, 'index.html');
    if (!existsSync(target)) {
      return sendJson(res, 503, {
        error: { code: 'unavailable', message: 'the dashboard is not built; run `npm run build`' },
      });
    }
    res.writeHead(200, {
      'content-type': MIME[extname(target)] ?? 'application/octet-stream',
      'content-security-policy': CSP,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': target.endsWith('index.html') ? 'no-store' : 'public, max-age=3600',
    });
    createReadStream(target).pipe(res);
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: WS_MAX_MESSAGE_BYTES });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', `http://${HOST}:${port}`);
    const refuse = (status: number, why: string) => {
      log.warn(`dashboard: refused a WebSocket (${why})`);
      socket.end(`HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : 'Forbidden'}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    };
    if (url.pathname !== '/ws') return refuse(403, 'wrong path');
    if (!hostAllowed(req)) return refuse(403, 'host not allowed');
    if (!originAllowed(req)) return refuse(403, `origin ${req.headers.origin} not allowed`);
    if (!authorised(req, url)) return refuse(401, 'missing or wrong token');
    wss.handleUpgrade(req, socket, head, (ws) => serveSocket(ws));
  });

  function serveSocket(ws: WebSocket): void {
    const send = (message: WsServerMessage) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
    };
    send({ type: 'state', snapshot: o.getState() });
    const subscription = o.onState((snapshot) => send({ type: 'state', snapshot }));
    ws.on('message', (data, isBinary) => {
      void onMessage(data.toString(), isBinary);
    });
    ws.on('close', () => subscription.dispose());
    ws.on('error', (error) => log.warn(`dashboard socket: ${error.message}`));

    async function onMessage(text: string, isBinary: boolean): Promise<void> {
      let json: unknown;
      try {
        if (isBinary) throw new Error('binary frames are not part of the protocol');
        json = JSON.parse(text);
      } catch (error) {
        return send({ type: 'error', error: { code: 'bad-request', message: `unreadable message: ${(error as Error).message}` } });
      }
      const parsed = WsClientMessage.safeParse(json);
      if (!parsed.success) {
        const id = typeof (json as { id?: unknown })?.id === 'number' ? (json as { id: number }).id : null;
        const message = `malformed message: ${parsed.error.issues[0]?.message ?? 'invalid'}`;
        return id === null
          ? send({ type: 'error', error: { code: 'bad-request', message } })
          : send({ type: 'result', id, result: { ok: false, error: { code: 'bad-request', message } } });
      }
      const result = await o.router.invoke(parsed.data.channel, parsed.data.payload);
      send({ type: 'result', id: parsed.data.id, result });
    }
  }

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(o.port, HOST, () => resolveListen());
  });
  port = (server.address() as AddressInfo).port;
  const url = `http://${HOST}:${port}/?token=${token}`;

  return {
    url,
    port,
    token,
    close: () =>
      new Promise<void>((done) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}
