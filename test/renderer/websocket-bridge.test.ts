// @vitest-environment jsdom
import { afterEach, describe, expect, it } from 'vitest';
import { connectBridge, type ConnectionStatus } from '../../src-renderer/bridge';

/** Just enough of a browser WebSocket: it opens at once and answers every invoke with its own payload. */
class EchoSocket {
  static readonly OPEN = 1;
  readyState = 0;
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  constructor(readonly url: string) {
    queueMicrotask(() => {
      this.readyState = EchoSocket.OPEN;
      this.onopen?.();
    });
  }
  send(text: string): void {
    const m = JSON.parse(text) as { id: number; payload: unknown };
    queueMicrotask(() => this.onmessage?.({ data: JSON.stringify({ type: 'result', id: m.id, result: { ok: true, value: m.payload } }) }));
  }
}

const realSocket = globalThis.WebSocket;
afterEach(() => {
  globalThis.WebSocket = realSocket;
});

describe('WebSocket bridge', () => {
  it('answers through invoke and onState taken off the bridge (the wallet page hands invoke to its panels)', async () => {
    globalThis.WebSocket = EchoSocket as unknown as typeof WebSocket;
    window.history.replaceState(null, '', '/?token=t0ken');
    const statuses: ConnectionStatus[] = [];
    let opened!: () => void;
    const open = new Promise<void>((done) => (opened = done));
    const { invoke, onState } = connectBridge((s) => {
      statuses.push(s);
      if (s === 'open') opened();
    });
    await open;
    await expect(invoke('wallet:status', {})).resolves.toEqual({ ok: true, value: {} });
    expect(typeof onState(() => undefined)).toBe('function');
    expect(statuses).toEqual(['connecting', 'open']);
  });
});
