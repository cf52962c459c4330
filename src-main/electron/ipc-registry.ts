import type { BrowserWindow, IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import { INVOKE_CHANNELS, STATE_CHANNEL } from '../../src-shared/channels';
import { err } from '../../src-shared/result';
import type { StateSnapshot } from '../../src-shared/state';
import type { IpcRouter } from '../ipc/router';
import type { Disposable, Event } from '../../src-node/event';
import type { Logger } from '../../src-node/log';
import { isTrustedSender } from './security';

/**
 * The main-side half of Electron IPC, and with the preload the only file that touches raw IPC.
 * Every handler does the same four steps: check the sender, then let the router parse the
 * payload, call the service and wrap a `Result`.
 */
export interface IpcRegistryOptions {
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>;
  router: IpcRouter;
  /** The webContents ids of our own windows; read on every call, so a new window is trusted at once. */
  trustedWebContentsIds: () => ReadonlySet<number>;
  log: Logger;
}

/** Registers one `ipcMain.handle` per invoke channel; returns the function that removes them. */
export function registerIpcHandlers(o: IpcRegistryOptions): () => void {
  for (const channel of INVOKE_CHANNELS) {
    o.ipcMain.handle(channel, (event: IpcMainInvokeEvent, payload: unknown) => {
      if (!isTrustedSender(event, o.trustedWebContentsIds())) {
        o.log.warn(`refused ${channel} from an untrusted sender (${event.senderFrame?.url ?? 'no frame'})`);
        return err('forbidden', `${channel}: this page may not call the miner`);
      }
      return o.router.invoke(channel, payload);
    });
  }
  return () => {
    for (const channel of INVOKE_CHANNELS) o.ipcMain.removeHandler(channel);
  };
}

export type PushWindow = Pick<BrowserWindow, 'isDestroyed' | 'isVisible' | 'isMinimized' | 'on' | 'off'> & {
  webContents: Pick<WebContents, 'send' | 'isDestroyed'>;
};

/**
 * Sends state pushes to a window. The store already throttles them; on top of that nothing is
 * sent while the window is hidden or minimised (the tray app spends most of its life so), and the
 * latest snapshot is sent the moment it shows again.
 */
export class StatePusher {
  private latest: StateSnapshot | null = null;
  private stale = false;
  private subscription: Disposable | null = null;
  private readonly onShown = () => this.flush();

  constructor(
    private readonly window: PushWindow,
    private readonly onState: Event<StateSnapshot>,
  ) {}

  start(): void {
    if (this.subscription) return;
    this.subscription = this.onState((snapshot) => {
      this.latest = snapshot;
      this.stale = true;
      this.flush();
    });
    this.window.on('show', this.onShown);
    this.window.on('restore', this.onShown);
  }

  dispose(): void {
    this.subscription?.dispose();
    this.subscription = null;
    if (!this.window.isDestroyed()) {
      this.window.off('show', this.onShown);
      this.window.off('restore', this.onShown);
    }
  }

  private flush(): void {
    if (!this.stale || !this.latest) return;
    const w = this.window;
    if (w.isDestroyed() || w.webContents.isDestroyed() || !w.isVisible() || w.isMinimized()) return;
    this.stale = false;
    w.webContents.send(STATE_CHANNEL, this.latest);
  }
}
