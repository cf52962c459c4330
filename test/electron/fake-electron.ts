import { fork } from 'node:child_process';
import { EventEmitter } from 'node:events';

/**
 * Enough of Electron's main-process API, in plain Node, to run the desktop composition root
 * (compose/electron.ts) for real: windows, IPC, tray and menus are recording fakes; the teacher
 * worker runs through `child_process.fork`, standing in for `utilityProcess.fork`.
 */
export function fakeElectron(o: { userData: string; home: string; idleSeconds: () => number }) {
  let nextId = 1;
  const handlers = new Map<string, (event: unknown, payload: unknown) => unknown>();
  const protocols = new Map<string, (request: Request) => Promise<Response>>();
  const windows: FakeWindow[] = [];
  const trays: FakeTray[] = [];
  const notifications: { title: string; body: string }[] = [];
  const errors: string[] = [];
  const schemes: unknown[] = [];
  const paths = new Map<string, string>([
    ['userData', o.userData],
    ['home', o.home],
  ]);
  const app = Object.assign(new EventEmitter(), {
    isPackaged: false,
    quitCalls: 0,
    exitCode: null as number | null,
    getPath: (name: string) => paths.get(name) ?? o.userData,
    setPath: (name: string, value: string) => void paths.set(name, value),
    whenReady: () => Promise.resolve(),
    requestSingleInstanceLock: () => true,
    setAppUserModelId: () => undefined,
    exit: (code: number) => void (app.exitCode = code),
    getVersion: () => '0.0.0-test',
    quit: () => {
      app.quitCalls++;
      const event = { defaultPrevented: false, preventDefault: () => void (event.defaultPrevented = true) };
      app.emit('before-quit', event);
    },
    setLoginItemSettings: () => undefined,
    getLoginItemSettings: () => ({ openAtLogin: false }),
  });

  class FakeWindow extends EventEmitter {
    readonly id = nextId++;
    visible = false;
    minimized = false;
    destroyed = false;
    loadedUrl: string | null = null;
    readonly sent: [string, unknown][] = [];
    readonly webContents = {
      id: nextId++,
      isDestroyed: () => this.destroyed,
      send: (channel: string, payload: unknown) => void this.sent.push([channel, payload]),
    };
    constructor(readonly options: Record<string, unknown>) {
      super();
      windows.push(this);
    }
    loadURL(url: string) {
      this.loadedUrl = url;
      setImmediate(() => this.emit('ready-to-show'));
      return Promise.resolve();
    }
    show() {
      this.visible = true;
      this.emit('show');
    }
    hide() {
      this.visible = false;
      this.emit('hide');
    }
    focus() {}
    restore() {
      this.minimized = false;
      this.emit('restore');
    }
    isVisible() {
      return this.visible;
    }
    isMinimized() {
      return this.minimized;
    }
    isDestroyed() {
      return this.destroyed;
    }
    /** What Electron does when the user clicks the close button: returns whether it closed. */
    userClose(): boolean {
      let prevented = false;
      this.emit('close', { preventDefault: () => void (prevented = true) });
      if (!prevented) this.destroyed = true;
      return !prevented;
    }
  }

  class FakeTray extends EventEmitter {
    image: string;
    tooltip = '';
    menu: { template: { label?: string; click?: () => void; id?: string }[] } | null = null;
    destroyed = false;
    constructor(image: string) {
      super();
      this.image = image;
      trays.push(this);
    }
    setImage(image: string) {
      this.image = image;
    }
    setToolTip(text: string) {
      this.tooltip = text;
    }
    setContextMenu(menu: FakeTray['menu']) {
      this.menu = menu;
    }
    destroy() {
      this.destroyed = true;
    }
    isDestroyed() {
      return this.destroyed;
    }
  }

  class FakeNotification extends EventEmitter {
    static isSupported = () => true;
    constructor(private readonly content: { title: string; body: string }) {
      super();
    }
    show() {
      notifications.push(this.content);
    }
  }

  const utilityProcess = {
    fork(modulePath: string, args: string[] = [], options: { env?: NodeJS.ProcessEnv } = {}) {
      const child = fork(modulePath, args, {
        env: options.env,
        serialization: 'advanced',
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      });
      const proxy = Object.assign(new EventEmitter(), {
        pid: child.pid,
        stdout: child.stdout,
        stderr: child.stderr,
        postMessage: (message: unknown) => child.connected && child.send(message as never),
        kill: () => child.kill(),
      });
      child.on('message', (m) => proxy.emit('message', m));
      child.on('exit', (code) => proxy.emit('exit', code ?? 1));
      return proxy;
    },
  };

  const electron = {
    app,
    BrowserWindow: FakeWindow,
    Tray: FakeTray,
    Menu: { buildFromTemplate: (template: unknown) => ({ template }) },
    Notification: FakeNotification,
    ipcMain: {
      handle: (channel: string, h: (event: unknown, payload: unknown) => unknown) => handlers.set(channel, h),
      removeHandler: (channel: string) => handlers.delete(channel),
    },
    protocol: {
      handle: (scheme: string, h: (r: Request) => Promise<Response>) => protocols.set(scheme, h),
      registerSchemesAsPrivileged: (list: unknown[]) => void schemes.push(...list),
    },
    dialog: {
      showErrorBox: (title: string, body: string) => void errors.push(`${title}: ${body}`),
      showMessageBox: async () => ({ response: 1, checkboxChecked: false }),
    },
    session: {
      defaultSession: {
        webRequest: { onHeadersReceived: () => undefined },
        setPermissionRequestHandler: () => undefined,
        setPermissionCheckHandler: () => undefined,
        setDevicePermissionHandler: () => undefined,
      },
    },
    shell: { openExternal: async () => undefined, openPath: async () => '' },
    powerMonitor: Object.assign(new EventEmitter(), {
      getSystemIdleTime: o.idleSeconds,
      isOnBatteryPower: () => false,
    }),
    safeStorage: {
      isAsyncEncryptionAvailable: async () => true,
      getSelectedStorageBackend: () => 'gnome_libsecret',
      encryptStringAsync: async (s: string) => Buffer.from(s),
      decryptStringAsync: async (b: Buffer) => ({ shouldReEncrypt: false, result: b.toString() }),
    },
    utilityProcess,
  };
  return { electron, handlers, protocols, windows, trays, notifications, errors, schemes, paths };
}
