import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket, WebSocketServer } from 'ws';
import { WsClientMessage, type WsServerMessage } from '../../src-shared/ipc';
import type { StateSnapshot } from '../../src-shared/state';
import type { Event } from '../../src-node/event';
import type { Logger } from '../../src-node/log';
import type { IpcRouter } from '../ipc/router';
import type { DashboardAccess } from './dashboard-access';

export interface DashboardSocketOptions {
  router: IpcRouter;
  getState: () => StateSnapshot;
  onState: Event<StateSnapshot>;
  log: Logger;
}

/** Lets a WebSocket in on `/ws` only with a loopback Host, our own Origin and the token. */
export function dashboardUpgradeHandler(wss: WebSocketServer, access: DashboardAccess, o: DashboardSocketOptions) {
  return (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const url = access.urlOf(req);
    const refuse = (status: number, why: string) => {
      o.log.warn(`dashboard: refused a WebSocket (${why})`);
      socket.end(`HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : 'Forbidden'}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    };
    if (url.pathname !== '/ws') return refuse(403, 'wrong path');
    if (!access.hostAllowed(req)) return refuse(403, 'host not allowed');
    if (!access.originAllowed(req)) return refuse(403, `origin ${req.headers.origin} not allowed`);
    if (!access.authorised(req, url)) return refuse(401, 'missing or wrong token');
    wss.handleUpgrade(req, socket, head, (ws) => serveSocket(ws, o));
  };
}

/** One dashboard session: the snapshot now and on every change, and each request's result. */
function serveSocket(ws: WebSocket, o: DashboardSocketOptions): void {
  const send = (message: WsServerMessage) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
  };
  send({ type: 'state', snapshot: o.getState() });
  const subscription = o.onState((snapshot) => send({ type: 'state', snapshot }));
  ws.on('message', (data, isBinary) => {
    void answer(o.router, send, data.toString(), isBinary);
  });
  ws.on('close', () => subscription.dispose());
  ws.on('error', (error) => o.log.warn(`dashboard socket: ${error.message}`));
}

async function answer(router: IpcRouter, send: (message: WsServerMessage) => void, text: string, isBinary: boolean): Promise<void> {
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
  const result = await router.invoke(parsed.data.channel, parsed.data.payload);
  send({ type: 'result', id: parsed.data.id, result });
}
