import { join } from 'node:path';
import type { BrowserWindow } from 'electron';
import { distPath, resourcePath } from '../../src-node/app-paths';
import { createServices, type Services } from './services';
import { Autostart } from '../desktop/autostart';
import type { TrayAction } from '../desktop/tray-model';
import { hideOnClose, onceEver } from '../electron/close-to-tray';
import { DesktopPrefsStore, pauseToRestore, type DesktopPrefs } from '../electron/desktop-prefs';
import { RotatingFileLog } from '../electron/file-log-sink';
import { registerIpcHandlers, StatePusher } from '../electron/ipc-registry';
import { desktopPolicyConfig, PolicyLoop } from '../policy/policy-loop';
import { dialogMnemonicPresenter } from '../electron/mnemonic-dialog';
import { safeStorageBox } from '../electron/safe-storage-box';
import { hardenSession, hardenWebContents } from '../electron/security';
import { TrayController } from '../electron/tray';
import { UpdateCoordinator, updateModeFor } from '../electron/update-coordinator';
import { electronUpdater, RELEASES_PAGE_URL } from '../electron/updater';
import { utilityProcessLauncher } from '../electron/utility-launcher';
import { createMainWindow, registerAppProtocol, revealWindow } from '../electron/window';
import { GameDetector, readTextFile } from '../desktop/game-detection';
import { execFileRunner } from '../gpu';
import { DisposableStore } from '../../src-node/event';
import { errorMessage, LogHub, type Logger } from '../../src-node/log';
import type { StateSnapshot } from '../../src-shared/state';

/** Electron's API, passed in by `electron/main.ts`: this file imports Electron's types only. */
export type ElectronModule = typeof import('electron');

export interface DesktopOptions {
  /** Launched by the login item: stay in the tray. */
  startHidden: boolean;
  /** Copy log lines to stderr (development runs). */
  echoLogs: boolean;
  /** NYA_TEST_HOOKS=1 in an unpackaged run (the Playwright smoke test): expose `globalThis.__nyaTest` in main. */
  testHooks: boolean;
}

export interface DesktopApp {
  services: Services;
  window: BrowserWindow;
  reveal(): void;
}

const DISPOSE_TIMEOUT_MS = 10_000;
const PREVIOUS_RUN_LOG_LINES = 200;

/**
 * The desktop composition root: the same services `nya mine` runs (services.ts), plus what only
 * the desktop has: the window and its IPC, the tray, the login item, the mining policy fed by
 * idle time and battery, rotating log files, updates, and the user's pause kept across restarts.
 */
export async function composeElectron(electron: ElectronModule, o: DesktopOptions): Promise<DesktopApp> {
  const { app } = electron;
  const userData = app.getPath('userData');
  const logs = openDesktopLogs(userData, o.echoLogs);
  const log = logs.hub.logger('desktop');
  const prefs = new DesktopPrefsStore(userData, logs.hub.logger('prefs'));

  hardenSession(electron.session.defaultSession);
  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents, electron.shell));
  registerAppProtocol(electron.protocol, distPath('renderer'));

  const launcher = utilityProcessLauncher(electron.utilityProcess.fork, logs.hub.logger('teacher-worker'));
  const services = await createServices({
    dataDir: userData,
    log: logs.hub,
    workerLauncher: launcher,
    secretBox: safeStorageBox(electron.safeStorage),
    mnemonicPresenter: dialogMnemonicPresenter(electron.dialog),
    clientName: `nya-miner-desktop/${app.getVersion()}`,
  });
  for (const record of logs.previousRun) services.logs.sink(record);
  restoreUserPause(services, prefs);

  const view = openWindow(electron, services, o, log);
  let quitting = false;
  hideOnClose(view.win, { isQuitting: () => quitting, onHiddenToTray: trayNotice(electron, prefs, view.win) });
  const updates = openUpdates(electron, services, prefs, logs.hub, () => shutdown());
  const tray = openTray(electron, { services, prefs, updates, win: view.win, logsDir: logs.dir });
  const policy = startDesktopPolicy(electron, services, launcher, logs.hub);

  let shutdownPromise: Promise<void> | null = null;
  let shutdownDone = false;
  function shutdown(): Promise<void> {
    quitting = true;
    shutdownPromise ??= (async () => {
      log.info('quitting: stopping the miner');
      updates?.dispose();
      tray.subscriptions.dispose();
      view.dispose();
      await policy.dispose();
      const disposed = await withTimeout(services.dispose(), DISPOSE_TIMEOUT_MS);
      if (!disposed) log.warn(`services did not stop within ${DISPOSE_TIMEOUT_MS / 1000} s; quitting anyway`);
      tray.controller.dispose();
      logs.file.close();
      shutdownDone = true;
    })();
    return shutdownPromise;
  }
  quitAfterShutdown(app, shutdown, {
    markQuitting: () => (quitting = true),
    isDone: () => shutdownDone,
    markDone: () => (shutdownDone = true),
  });

  if (o.testHooks && !app.isPackaged) {
    (globalThis as Record<string, unknown>).__nyaTest = {
      trayMenuLabels: () => [...tray.controller.menuLabels],
      stateSeq: () => services.state.get().seq,
      windowId: view.win.id,
    };
  }

  // The policy's first hold is in place before the miner loop starts: no burst of mining while
  // the user is at the keyboard.
  policy.start();
  await services.start();
  updates?.start();
  log.info(`desktop app ready (${o.startHidden ? 'in the tray' : 'window shown'})`);
  return { services, window: view.win, reveal: () => revealWindow(view.win) };
}

/**
 * Updates in the packaged app: installed only with an empty outbox, after the miner has stopped,
 * where the format updates itself; elsewhere (the .deb) a notification that opens the releases page.
 */
function openUpdates(electron: ElectronModule, services: Services, prefs: DesktopPrefsStore, hub: LogHub, shutdown: () => Promise<void>) {
  if (!electron.app.isPackaged) return null;
  const mode = updateModeFor(process.platform, process.env);
  const updater = electronUpdater(hub.logger('updater'), mode);
  return new UpdateCoordinator({
    updater,
    mode,
    notify: (version) => {
      if (!electron.Notification.isSupported()) return;
      const notice = new electron.Notification({
        title: `Nya Miner ${version} is available`,
        body: 'This package does not update itself. Click to download the new .deb from the releases page.',
        icon: resourcePath('assets', 'icons', 'icon-256.png'),
      });
      notice.on('click', () => void electron.shell.openExternal(RELEASES_PAGE_URL));
      notice.show();
    },
    enabled: () => prefs.get().updateChecks,
    outboxPending: () => services.state.get().validator.outboxPending,
    install: async () => {
      await shutdown();
      updater.quitAndInstall();
    },
    log: hub.logger('updater'),
  });
}

/** Log lines go to rotating files (and stderr in development); the Logs page starts with the previous run's end. */
function openDesktopLogs(userData: string, echo: boolean) {
  const hub = new LogHub();
  const dir = join(userData, 'logs');
  const file = new RotatingFileLog({ dir });
  // What led up to a crash, say.
  const previousRun = file.recent(PREVIOUS_RUN_LOG_LINES);
  hub.attach(file.sink);
  if (echo) hub.attach((r) => process.stderr.write(`${r.level} [${r.source}] ${r.message}\n`));
  return { hub, dir, file, previousRun };
}

function openWindow(electron: ElectronModule, services: Services, o: DesktopOptions, log: Logger) {
  const win = createMainWindow({
    BrowserWindow: electron.BrowserWindow,
    preloadPath: distPath('main', 'preload.cjs'),
    iconPath: resourcePath('assets', 'icons', 'icon-256.png'),
    show: !o.startHidden,
    devTools: !electron.app.isPackaged,
  });
  const trustedIds = new Set([win.webContents.id]);
  const unregisterIpc = registerIpcHandlers({
    ipcMain: electron.ipcMain,
    router: services.router,
    trustedWebContentsIds: () => trustedIds,
    log,
  });
  const pusher = new StatePusher(win, services.state.onChange);
  pusher.start();
  return {
    win,
    dispose() {
      pusher.dispose();
      unregisterIpc();
    },
  };
}

/** Told once ever: closing the window leaves the miner running in the tray. */
function trayNotice(electron: ElectronModule, prefs: DesktopPrefsStore, win: BrowserWindow) {
  return onceEver({
    shown: () => prefs.get().closeToTrayNoticeShown,
    markShown: () => prefs.update({ closeToTrayNoticeShown: true }),
    show: () => {
      if (!electron.Notification.isSupported()) return;
      const notice = new electron.Notification({
        title: 'Nya Miner is still running',
        body: 'It keeps mining from the tray. Use Quit in the tray menu to stop it.',
        icon: resourcePath('assets', 'icons', 'icon-256.png'),
      });
      notice.on('click', () => revealWindow(win));
      notice.show();
    },
  });
}

interface TrayDeps {
  services: Services;
  prefs: DesktopPrefsStore;
  updates: UpdateCoordinator | null;
  win: BrowserWindow;
  logsDir: string;
}

/** The tray icon and menu, the login item it toggles, and the user's pause remembered across restarts. */
function openTray(electron: ElectronModule, d: TrayDeps) {
  const { app } = electron;
  const autostart = new Autostart({
    platform: process.platform,
    env: process.env,
    execPath: process.execPath,
    homeDir: app.getPath('home'),
    loginItems: app,
  });
  // A dev run (`electron .`) must not register the bare Electron binary as a login item.
  if (app.isPackaged && autostart.supported) autostart.setEnabled(d.prefs.get().openAtLogin);
  const setPref = (patch: Partial<DesktopPrefs>) => {
    d.prefs.update(patch);
    controller.refresh();
  };
  const onAction = (action: TrayAction) => {
    switch (action.kind) {
      case 'set-paused':
        d.services.miner.setPaused(action.paused, action.forMs);
        return;
      case 'open-window':
        revealWindow(d.win);
        return;
      case 'open-logs':
        void electron.shell.openPath(d.logsDir);
        return;
      case 'set-open-at-login':
        if (app.isPackaged) autostart.setEnabled(action.enabled);
        setPref({ openAtLogin: action.enabled });
        return;
      case 'set-update-checks':
        setPref({ updateChecks: action.enabled });
        if (action.enabled) void d.updates?.checkNow();
        return;
      case 'quit':
        app.quit();
        return;
    }
  };
  const controller = new TrayController({
    iconDir: resourcePath('assets', 'icons'),
    prefs: () => ({ openAtLogin: d.prefs.get().openAtLogin, updateChecks: d.prefs.get().updateChecks }),
    onAction,
    createTray: (iconPath) => new electron.Tray(iconPath),
    buildMenu: (template) => electron.Menu.buildFromTemplate(template),
  });
  controller.update(d.services.state.get());
  const subscriptions = new DisposableStore();
  subscriptions.add(d.services.state.onChange((snapshot) => controller.update(snapshot)));
  subscriptions.add(d.services.state.onChange((snapshot) => rememberUserPause(d.prefs, snapshot.miner)));
  return { controller, subscriptions };
}

/** The mining policy fed by idle time, battery, games and other GPU programs, with the user's limits from the settings. */
function startDesktopPolicy(electron: ElectronModule, services: Services, launcher: { pids(): number[] }, hub: LogHub) {
  const { app, powerMonitor } = electron;
  const detector = new GameDetector({
    platform: process.platform,
    run: execFileRunner,
    readText: readTextFile,
    homeDir: app.getPath('home'),
    ownPids: () => launcher.pids(),
    logger: hub.logger('game-detection'),
  });
  const policy = new PolicyLoop({
    signals: {
      idleSeconds: () => powerMonitor.getSystemIdleTime(),
      onBattery: () => powerMonitor.isOnBatteryPower(),
      detect: () => detector.detect(),
    },
    state: services.state,
    miner: services.miner,
    config: () => desktopPolicyConfig(services.settings.get()),
    log: hub.logger('policy'),
  });
  // Unplugging or waking must not wait for the next poll.
  const decideNow = () => void policy.tick();
  for (const event of ['on-battery', 'on-ac', 'resume', 'unlock-screen'] as const) powerMonitor.on(event as 'resume', decideNow);
  return policy;
}

/** Quit waits for the miner to hand back the GPU and close its files, then quits for real. */
function quitAfterShutdown(
  app: ElectronModule['app'],
  shutdown: () => Promise<void>,
  flags: { markQuitting(): void; isDone(): boolean; markDone(): void },
): void {
  app.on('before-quit', (event) => {
    flags.markQuitting();
    if (flags.isDone()) return;
    event.preventDefault();
    void shutdown()
      .catch((error) => process.stderr.write(`shutdown failed: ${errorMessage(error)}\n`))
      .finally(() => {
        flags.markDone();
        app.quit();
      });
  });
  // A tray app lives on with no window; only Quit ends it.
  app.on('window-all-closed', () => undefined);
}

function restoreUserPause(services: Services, prefs: DesktopPrefsStore): void {
  const restore = pauseToRestore(prefs.get().userPause, Date.now());
  if (restore.paused) services.miner.setPaused(true, restore.forMs);
}

function rememberUserPause(prefs: DesktopPrefsStore, miner: StateSnapshot['miner']): void {
  prefs.update({ userPause: { paused: miner.userPaused, untilMs: miner.pausedUntilMs } });
}

async function withTimeout(work: Promise<void>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([work.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
