import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { WS_MAX_MESSAGE_BYTES } from '../../src-shared/ipc';
import { DASHBOARD_HOST, DashboardAccess } from './dashboard-access';
import { dashboardRequestHandler, type DashboardHttpOptions } from './dashboard-http';
import { dashboardUpgradeHandler, type DashboardSocketOptions } from './dashboard-socket';

export interface DashboardServerOptions extends DashboardHttpOptions, DashboardSocketOptions {
  /** 0 picks a free port. */
  port: number;
  /** Given by tests; otherwise a fresh random secret per run. */
  token?: string;
}

export interface DashboardServer {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

/**
 * The headless dashboard: the built renderer over HTTP and the IPC contract over a WebSocket, on
 * loopback only. Without the per-run token the API, metrics and WebSocket answer 401; see
 * DashboardAccess for who gets in.
 */
export async function startDashboardServer(o: DashboardServerOptions): Promise<DashboardServer> {
  const access = new DashboardAccess(o.token ?? randomBytes(24).toString('base64url'), o.port);
  const server = createServer(dashboardRequestHandler(o, access));
  const wss = new WebSocketServer({ noServer: true, maxPayload: WS_MAX_MESSAGE_BYTES });
  server.on('upgrade', dashboardUpgradeHandler(wss, access, o));

  access.port = await listen(server, o.port);
  return {
    url: `http://${DASHBOARD_HOST}:${access.port}/?token=${access.token}`,
    port: access.port,
    token: access.token,
    close: () =>
      new Promise<void>((done) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

/** Resolves with the port bound on loopback (the one picked when `port` is 0). */
async function listen(server: Server, port: number): Promise<number> {
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(port, DASHBOARD_HOST, () => resolveListen());
  });
  return (server.address() as AddressInfo).port;
}
