import { createReadStream, existsSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { StateSnapshot } from '../../src-shared/state';
import type { Logger } from '../../src-node/log';
import type { DashboardAccess } from './dashboard-access';

/** An authenticated GET route's answer. */
export type DashboardRoute = () => Promise<{ contentType: string; body: string }>;

export interface DashboardHttpOptions {
  staticDir: string;
  getState: () => StateSnapshot;
  /** Extra authenticated GET routes, e.g. `/metrics`. */
  routes?: Record<string, DashboardRoute>;
  log: Logger;
}

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

/** The HTTP side: the built renderer to anyone on loopback, `/api/state` and extra routes to token holders. */
export function dashboardRequestHandler(o: DashboardHttpOptions, access: DashboardAccess) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    void handle(o, access, req, res).catch((error) => {
      o.log.error(`dashboard request failed: ${(error as Error).message}`);
      if (!res.headersSent) sendJson(res, 500, { error: { code: 'internal', message: 'internal error' } });
      else res.destroy();
    });
  };
}

async function handle(o: DashboardHttpOptions, access: DashboardAccess, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!access.hostAllowed(req)) return sendJson(res, 403, { error: { code: 'forbidden', message: 'host not allowed' } });
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return sendJson(res, 405, { error: { code: 'bad-request', message: 'only GET is served here' } });
  }
  const url = access.urlOf(req);
  const route: DashboardRoute | undefined =
    url.pathname === '/api/state'
      ? async () => ({ contentType: 'application/json', body: JSON.stringify(o.getState()) })
      : o.routes?.[url.pathname];
  if (route) {
    if (!access.authorised(req, url)) {
      return sendJson(res, 401, { error: { code: 'forbidden', message: 'missing or wrong token; use the URL nya printed' } });
    }
    const { contentType, body } = await route();
    res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
    res.end(body);
    return;
  }
  serveStatic(o.staticDir, url.pathname, res);
}

/** A file of the built renderer, or index.html for a path that names none. */
function serveStatic(staticDir: string, pathname: string, res: ServerResponse): void {
  const root = resolve(staticDir);
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

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}
