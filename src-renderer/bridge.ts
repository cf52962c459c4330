import { INVOKE_CHANNELS, type InvokeChannel } from '../src-shared/channels';
import type { IpcRequest, IpcResponse, NyaBridge, WsServerMessage } from '../src-shared/ipc';
import type { Result } from '../src-shared/result';
import type { StateSnapshot } from '../src-shared/state';

declare global {
  interface Window {
    /** Set by the Electron preload; absent in a browser (headless dashboard). */
    nya?: NyaBridge;
  }
}

export type ConnectionStatus = 'connecting' | 'open' | 'closed' | 'unauthorised';

/**
 * The renderer's one way to main: Electron's preload bridge when present, else the headless
 * WebSocket carrying the same contract. The token comes from the URL nya printed; it is moved to
 * sessionStorage and out of the address bar, so a reload keeps working and a screenshot leaks
 * nothing.
 */
export function connectBridge(onStatus: (status: ConnectionStatus) => void): NyaBridge {
  if (window.nya) {
    onStatus('open');
    return window.nya;
  }
  return new WebSocketBridge(readToken(), onStatus);
}

function readToken(): string | null {
  const url = new URL(window.location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    sessionStorage.setItem('nya-token', fromUrl);
    url.searchParams.delete('token');
    window.history.replaceState(null, '', url.pathname + url.search + url.hash);
    return fromUrl;
  }
  return sessionStorage.getItem('nya-token');
}

class WebSocketBridge implements NyaBridge {
  private socket: WebSocket | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, (result: Result<unknown>) => void>();
  private readonly listeners = new Set<(snapshot: StateSnapshot) => void>();
  private retryMs = 500;

  constructor(
    private readonly token: string | null,
    private readonly onStatus: (status: ConnectionStatus) => void,
  ) {
    this.open();
  }

  // Arrow properties: bound to this bridge wherever they are passed.
  readonly invoke = <C extends InvokeChannel>(channel: C, request: IpcRequest<C>): Promise<Result<IpcResponse<C>>> => {
    if (!INVOKE_CHANNELS.includes(channel)) {
      return Promise.resolve({ ok: false, error: { code: 'unknown-channel', message: `no such channel: ${channel}` } });
    }
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      return Promise.resolve({ ok: false, error: { code: 'unavailable', message: 'not connected to the miner' } });
    }
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve as (result: Result<unknown>) => void);
      socket.send(JSON.stringify({ type: 'invoke', id, channel, payload: request }));
    });
  };

  readonly onState = (listener: (snapshot: StateSnapshot) => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  private open(): void {
    if (!this.token) {
      this.onStatus('unauthorised');
      return;
    }
    this.onStatus('connecting');
    const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
    const socket = new WebSocket(`${scheme}://${window.location.host}/ws?token=${encodeURIComponent(this.token)}`);
    this.socket = socket;
    let opened = false;
    socket.onopen = () => {
      opened = true;
      this.retryMs = 500;
      this.onStatus('open');
    };
    socket.onmessage = (event) => this.onMessage(String(event.data));
    socket.onclose = () => {
      for (const resolve of this.pending.values()) {
        resolve({ ok: false, error: { code: 'unavailable', message: 'connection to the miner closed' } });
      }
      this.pending.clear();
      // A refused handshake never opens: most likely a stale token after nya restarted.
      this.onStatus(opened ? 'closed' : 'unauthorised');
      setTimeout(() => this.open(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 10_000);
    };
  }

  private onMessage(text: string): void {
    let message: WsServerMessage;
    try {
      message = JSON.parse(text) as WsServerMessage;
    } catch {
      return;
    }
    if (message.type === 'state') {
      for (const listener of this.listeners) listener(message.snapshot);
    } else if (message.type === 'result') {
      this.pending.get(message.id)?.(message.result);
      this.pending.delete(message.id);
    }
  }
}
