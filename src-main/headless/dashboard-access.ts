import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const DASHBOARD_HOST = '127.0.0.1';

/**
 * Who may reach the dashboard. Like Jupyter, a per-run secret in the printed URL is what lets a
 * page or script in. The Host header must name loopback (so DNS rebinding cannot reach it) and a
 * browser's Origin must be this server's own.
 */
export class DashboardAccess {
  constructor(
    readonly token: string,
    /** Set once the server listens: a requested port 0 becomes the one the system picked. */
    public port: number,
  ) {}

  /** The request's URL, resolved against this server's own origin. */
  urlOf(req: IncomingMessage): URL {
    return new URL(req.url ?? '/', `http://${DASHBOARD_HOST}:${this.port}`);
  }

  hostAllowed(req: IncomingMessage): boolean {
    const host = (req.headers.host ?? '').toLowerCase();
    return host === `${DASHBOARD_HOST}:${this.port}` || host === `localhost:${this.port}`;
  }

  originAllowed(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    // Scripts (curl, monitoring) send no Origin; they still need the token.
    return origin === undefined || origin === `http://${DASHBOARD_HOST}:${this.port}` || origin === `http://localhost:${this.port}`;
  }

  authorised(req: IncomingMessage, url: URL): boolean {
    const given = tokenOf(req, url);
    if (!given) return false;
    const a = Buffer.from(given);
    const b = Buffer.from(this.token);
    return a.length === b.length && timingSafeEqual(a, b);
  }
}

function tokenOf(req: IncomingMessage, url: URL): string | null {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice('Bearer '.length).trim();
  return url.searchParams.get('token');
}
