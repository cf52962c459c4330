import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { INVOKE_CHANNELS, STATE_CHANNEL } from '../../src-shared/channels';
import type { StateSnapshot } from '../../src-shared/state';
import { registerIpcHandlers, StatePusher, type PushWindow } from '../../src-main/electron/ipc-registry';
import { createNyaBridge } from '../../src-main/electron/preload-bridge';
import { createIpcRouter, type IpcHandlers } from '../../src-main/ipc/router';
import { toDisposable } from '../../src-node/event';
import { silentLogger } from '../../src-node/log';

type Handler = (event: unknown, payload: unknown) => unknown;

function fakeIpcMain() {
  const handlers = new Map<string, Handler>();
  return {
    handlers,
    handle: (channel: string, h: Handler) => {
      if (handlers.has(channel)) throw new Error(`second handler for ${channel}`);
      handlers.set(channel, h);
    },
    removeHandler: (channel: string) => handlers.delete(channel),
  };
}

const trustedEvent = { sender: { id: 1 }, senderFrame: { url: 'app://nya/index.html', parent: null } };
const foreignEvent = { sender: { id: 1 }, senderFrame: { url: 'https://evil.example/', parent: null } };

describe('registerIpcHandlers', () => {
  function setup() {
    const ipcMain = fakeIpcMain();
    const setPaused = vi.fn((r: { paused: boolean }) => ({ status: 'paused', reason: 'x', userPaused: r.paused, pausedUntilMs: null }));
    const unused = () => {
      throw new Error('unused in this test');
    };
    const handlers = Object.fromEntries(INVOKE_CHANNELS.map((channel) => [channel, unused])) as unknown as IpcHandlers;
    const router = createIpcRouter({ ...handlers, 'miner:set-paused': setPaused as never }, silentLogger);
    const unregister = registerIpcHandlers({
      ipcMain: ipcMain as never,
      router,
      trustedWebContentsIds: () => new Set([1]),
      log: silentLogger,
    });
    return { ipcMain, setPaused, unregister };
  }

  it('registers exactly the contract channels and removes them again', () => {
    const s = setup();
    expect([...s.ipcMain.handlers.keys()].sort()).toEqual([...INVOKE_CHANNELS].sort());
    s.unregister();
    expect(s.ipcMain.handlers.size).toBe(0);
  });

  it('routes a trusted call to the service', async () => {
    const s = setup();
    const result = await s.ipcMain.handlers.get('miner:set-paused')!(trustedEvent, { paused: true });
    expect(result).toMatchObject({ ok: true, value: { userPaused: true } });
    expect(s.setPaused).toHaveBeenCalledOnce();
  });

  it('refuses an untrusted sender without touching the service', async () => {
    const s = setup();
    const result = await s.ipcMain.handlers.get('miner:set-paused')!(foreignEvent, { paused: true });
    expect(result).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(s.setPaused).not.toHaveBeenCalled();
  });

  it('answers a malformed payload from a trusted sender with bad-request', async () => {
    const s = setup();
    const result = await s.ipcMain.handlers.get('miner:set-paused')!(trustedEvent, { paused: 'yes' });
    expect(result).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    expect(s.setPaused).not.toHaveBeenCalled();
  });
});

function fakeWindow() {
  const w = new EventEmitter() as EventEmitter & PushWindow & { visible: boolean; minimized: boolean; sent: unknown[][] };
  w.visible = true;
  w.minimized = false;
  w.sent = [];
  Object.assign(w, {
    isDestroyed: () => false,
    isVisible: () => w.visible,
    isMinimized: () => w.minimized,
    webContents: { isDestroyed: () => false, send: (...args: unknown[]) => w.sent.push(args) },
  });
  return w;
}

describe('StatePusher', () => {
  const snap = (seq: number) => ({ seq }) as StateSnapshot;
  function setup() {
    const listeners = new Set<(s: StateSnapshot) => void>();
    const w = fakeWindow();
    const pusher = new StatePusher(w, (l) => (listeners.add(l), toDisposable(() => listeners.delete(l))));
    pusher.start();
    const push = (s: StateSnapshot) => listeners.forEach((l) => l(s));
    return { w, pusher, push, listeners };
  }

  it('sends each snapshot on the state channel while visible', () => {
    const s = setup();
    s.push(snap(1));
    s.push(snap(2));
    expect(s.w.sent).toEqual([
      [STATE_CHANNEL, snap(1)],
      [STATE_CHANNEL, snap(2)],
    ]);
  });

  it('sends nothing while hidden, then only the latest on show', () => {
    const s = setup();
    s.w.visible = false;
    s.push(snap(1));
    s.push(snap(2));
    expect(s.w.sent).toEqual([]);
    s.w.visible = true;
    s.w.emit('show');
    s.w.emit('show');
    expect(s.w.sent).toEqual([[STATE_CHANNEL, snap(2)]]);
  });

  it('holds pushes while minimised and sends on restore', () => {
    const s = setup();
    s.w.minimized = true;
    s.push(snap(3));
    expect(s.w.sent).toEqual([]);
    s.w.minimized = false;
    s.w.emit('restore');
    expect(s.w.sent).toEqual([[STATE_CHANNEL, snap(3)]]);
  });

  it('unsubscribes on dispose', () => {
    const s = setup();
    s.pusher.dispose();
    expect(s.listeners.size).toBe(0);
    expect(s.w.listenerCount('show')).toBe(0);
  });
});

describe('createNyaBridge (preload)', () => {
  function fakeIpcRenderer() {
    const emitter = new EventEmitter();
    const invoke = vi.fn(async (channel: string, payload: unknown) => ({ ok: true, value: { channel, payload } }));
    return { emitter, invoke, on: emitter.on.bind(emitter), removeListener: emitter.removeListener.bind(emitter) };
  }

  it('passes contract channels through to ipcRenderer.invoke', async () => {
    const ipc = fakeIpcRenderer();
    const bridge = createNyaBridge(ipc as never);
    const result = await bridge.invoke('miner:set-paused', { paused: true });
    expect(ipc.invoke).toHaveBeenCalledWith('miner:set-paused', { paused: true });
    expect(result).toEqual({ ok: true, value: { channel: 'miner:set-paused', payload: { paused: true } } });
  });

  it('refuses any other channel without sending it', async () => {
    const ipc = fakeIpcRenderer();
    const bridge = createNyaBridge(ipc as never);
    const result = await bridge.invoke('wallet:export-secret' as never, {} as never);
    expect(result).toMatchObject({ ok: false, error: { code: 'unknown-channel' } });
    expect(ipc.invoke).not.toHaveBeenCalled();
  });

  it('turns a rejected invoke into an unavailable Result', async () => {
    const ipc = fakeIpcRenderer();
    ipc.invoke.mockRejectedValueOnce(new Error("No handler registered for 'state:get'"));
    const result = await createNyaBridge(ipc as never).invoke('state:get', {});
    expect(result).toEqual({
      ok: false,
      error: { code: 'unavailable', message: "the miner did not answer: No handler registered for 'state:get'" },
    });
  });

  it('delivers state pushes without the IPC event, and unsubscribes', () => {
    const ipc = fakeIpcRenderer();
    const bridge = createNyaBridge(ipc as never);
    const seen: unknown[][] = [];
    const off = bridge.onState((...args: unknown[]) => void seen.push(args));
    ipc.emitter.emit(STATE_CHANNEL, { sender: 'ipcRenderer' }, { seq: 1 });
    off();
    ipc.emitter.emit(STATE_CHANNEL, { sender: 'ipcRenderer' }, { seq: 2 });
    expect(seen).toEqual([[{ seq: 1 }]]);
    expect(ipc.emitter.listenerCount(STATE_CHANNEL)).toBe(0);
  });
});
