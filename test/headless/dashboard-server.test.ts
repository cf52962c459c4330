import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { WS_MAX_MESSAGE_BYTES, type WsServerMessage } from '../../src-shared/ipc';
import { DEFAULT_SETTINGS } from '../../src-shared/state';
import { startDashboardServer, type DashboardServer } from '../../src-main/headless/dashboard-server';
import { createHandlers } from '../../src-main/ipc/handlers';
import { createIpcRouter } from '../../src-main/ipc/router';
import { silentLogger } from '../../src-node/log';
import { initialState } from '../../src-main/state/initial-state';
import { LogRing } from '../../src-main/state/log-ring';
import { StateStore } from '../../src-main/state/state-store';

/** The headless transport on its own: who gets in, what is refused, and that the contract rides on it. */
describe('headless dashboard server', () => {
  let dir: string;
  let server: DashboardServer;
  let state: StateStore;
  const base = () => `http://127.0.0.1:${server.port}`;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nya-dash-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Nya</title>');
    writeFileSync(join(dir, 'assets', 'app.js'), 'console.log(1)');
    writeFileSync(join(tmpdir(), 'nya-secret.txt'), 'secret');
    state = new StateStore(initialState(DEFAULT_SETTINGS), { pushIntervalMs: 10 });
    const logs = new LogRing();
    const miner = state.writer('test miner', 'miner');
    const router = createIpcRouter(
      createHandlers({
        state,
        logs,
        setPaused: (paused) => {
          miner.update((s) => ({ miner: { ...s.miner, userPaused: paused, status: paused ? 'paused' : 'mining' } }));
          return state.get().miner;
        },
        updateSettings: () => DEFAULT_SETTINGS,
        history: () => {
          throw new Error('unused');
        },
        validator: () => null,
        modelCatalog: () => {
          throw new Error('unused');
        },
        exportDiagnostics: () => {
          throw new Error('unused');
        },
        downloadModel: () => {
          throw new Error('unused');
        },
        cancelModelDownload: () => {
          throw new Error('unused');
        },
        networks: () => {
          throw new Error('unused');
        },
        wallet: {} as never,
      }),
      silentLogger,
    );
    server = await startDashboardServer({
      port: 0,
      staticDir: dir,
      router,
      getState: () => state.get(),
      onState: state.onChange,
      log: silentLogger,
      routes: { '/metrics': async () => ({ contentType: 'text/plain', body: 'nya_up 1\n' }) },
    });
  });
  afterAll(async () => {
    await server.close();
    state.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  function get(
    path: string,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
    return new Promise((resolve, reject) => {
      const req = request(`${base()}${path}`, { headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  function openSocket(opts: { token?: string | null; origin?: string; host?: string } = {}): Promise<WebSocket> {
    const token = opts.token === undefined ? server.token : opts.token;
    const headers: Record<string, string> = {};
    if (opts.host) headers.host = opts.host;
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws${token ? `?token=${token}` : ''}`, {
      headers,
      ...(opts.origin ? { origin: opts.origin } : {}),
    });
    // Frames can arrive in the same tick as 'open': keep them until a test asks.
    const inbox: WsServerMessage[] = [];
    const waiters = new Set<() => void>();
    ws.on('message', (data) => {
      inbox.push(JSON.parse(data.toString()) as WsServerMessage);
      for (const w of waiters) w();
    });
    inboxes.set(ws, { inbox, waiters });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(ws));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }

  const inboxes = new WeakMap<WebSocket, { inbox: WsServerMessage[]; waiters: Set<() => void> }>();

  /** The first not-yet-taken message that matches, waiting for it if needed. */
  function nextMessage(ws: WebSocket, match: (m: WsServerMessage) => boolean): Promise<WsServerMessage> {
    const box = inboxes.get(ws)!;
    return new Promise((resolve) => {
      const check = () => {
        const i = box.inbox.findIndex(match);
        if (i < 0) return;
        box.waiters.delete(check);
        resolve(box.inbox.splice(i, 1)[0]!);
      };
      box.waiters.add(check);
      check();
    });
  }

  it('prints a loopback URL carrying the token', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${server.token}`);
    expect(server.token.length).toBeGreaterThanOrEqual(32);
  });

  it('serves the app with a strict CSP, and never a file outside it', async () => {
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(String(page.headers['content-security-policy'])).toContain("script-src 'self'");
    expect((await get('/assets/app.js')).body).toBe('console.log(1)');
    for (const path of ['/../nya-secret.txt', '/%2e%2e/nya-secret.txt', '/assets/..%2f..%2fnya-secret.txt']) {
      expect((await get(path)).body).not.toContain('secret');
    }
  });

  it('answers /api/state and /metrics only with the token', async () => {
    expect((await get('/api/state')).status).toBe(401);
    expect((await get('/api/state?token=wrong')).status).toBe(401);
    expect((await get('/api/state', { authorization: 'Bearer nope' })).status).toBe(401);
    const ok = await get('/api/state', { authorization: `Bearer ${server.token}` });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body).schemaVersion).toBe(1);
    expect((await get(`/metrics?token=${server.token}`)).body).toBe('nya_up 1\n');
  });

  it('refuses a Host header that is not loopback (DNS rebinding)', async () => {
    expect((await get(`/api/state?token=${server.token}`, { host: 'evil.example:80' })).status).toBe(403);
    await expect(openSocket({ host: `evil.example:${server.port}` })).rejects.toThrow(/403/);
  });

  it('refuses a WebSocket without the token or from another origin', async () => {
    await expect(openSocket({ token: null })).rejects.toThrow(/401/);
    await expect(openSocket({ token: 'x'.repeat(32) })).rejects.toThrow(/401/);
    await expect(openSocket({ origin: 'https://evil.example' })).rejects.toThrow(/403/);
  });

  it('carries the contract: first state on connect, invoke round trip, pushes after a change', async () => {
    const ws = await openSocket({ origin: `http://127.0.0.1:${server.port}` });
    const first = await nextMessage(ws, (m) => m.type === 'state');
    expect(first.type === 'state' && first.snapshot.miner.userPaused).toBe(false);
    const pushed = nextMessage(ws, (m) => m.type === 'state' && m.snapshot.miner.userPaused);
    ws.send(JSON.stringify({ type: 'invoke', id: 7, channel: 'miner:set-paused', payload: { paused: true } }));
    const reply = await nextMessage(ws, (m) => m.type === 'result');
    expect(reply).toMatchObject({ type: 'result', id: 7, result: { ok: true, value: { userPaused: true } } });
    await pushed;
    ws.close();
  });

  it('answers malformed frames with a typed error and keeps the connection', async () => {
    const ws = await openSocket();
    await nextMessage(ws, (m) => m.type === 'state');
    const cases: [string, (m: WsServerMessage) => boolean][] = [
      ['not json', (m) => m.type === 'error'],
      [
        JSON.stringify({ type: 'invoke', id: 1, channel: 'miner:set-paused', payload: { paused: 'no' } }),
        (m) => m.type === 'result' && m.id === 1,
      ],
      [JSON.stringify({ type: 'invoke', id: 2, channel: 'nope', payload: {} }), (m) => m.type === 'result' && m.id === 2],
      [JSON.stringify({ type: 'call', id: 3 }), (m) => m.type === 'result' && m.id === 3],
    ];
    for (const [frame, match] of cases) {
      const answer = nextMessage(ws, match);
      ws.send(frame);
      const m = await answer;
      if (m.type === 'result') expect(m.result.ok).toBe(false);
      else expect(m).toMatchObject({ type: 'error', error: { code: 'bad-request' } });
    }
    expect(state.get().miner.userPaused).toBe(true);
    ws.close();
  });

  it('closes a socket that sends an oversized message', async () => {
    const ws = await openSocket();
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.send('x'.repeat(WS_MAX_MESSAGE_BYTES + 1));
    expect(await closed).toBe(1009);
  });
});
