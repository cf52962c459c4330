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
import { UpdateCoordinator } from '../electron/update-coordinator';
import { electronUpdater } from '../electron/updater';
import { utilityProcessLauncher } from '../electron/utility-launcher';
import { createMainWindow, registerAppProtocol, revealWindow } from '../electron/window';
import { GameDetector, readTextFile } from '../desktop/game-detection';
import { execFileRunner } from '../gpu';
import { errorMessage, LogHub } from '../../src-node/log';
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
 * The desktop composition root: the same services `nya mine` runs (compose.ts), plus what only
 * the desktop has: the window and its IPC, the tray, the login item, the mining policy fed by
 * idle time and battery, rotating log files, updates, and the user's pause kept across restarts.
 */
export async function composeElectron(electron: ElectronModule, o: DesktopOptions): Promise<DesktopApp> {
  const { app, ipcMain, powerMonitor } = electron;
  const userData = app.getPath('userData');

  const hub = new LogHub();
  const logsDir = join(userData, 'logs');
  const fileLog = new RotatingFileLog({ dir: logsDir });
  // The Logs page starts with the end of the previous run (what led up to a crash, say).
  const previousRun = fileLog.recent(PREVIOUS_RUN_LOG_LINES);
  hub.attach(fileLog.sink);
  if (o.echoLogs) hub.attach((r) => process.stderr.write(`${r.level} [${r.source}] ${r.message}\n`));
  const log = hub.logger('desktop');
  const prefs = new DesktopPrefsStore(userData, hub.logger('prefs'));

  hardenSession(electron.session.defaultSession);
  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents, electron.shell));
  registerAppProtocol(electron.protocol, distPath('renderer'));

  const launcher = utilityProcessLauncher(electron.utilityProcess.fork, hub.logger('teacher-worker'));
  const services = await createServices({
    dataDir: userData,
    log: hub,
    workerLauncher: launcher,
    secretBox: safeStorageBox(electron.safeStorage),
    mnemonicPresenter: dialogMnemonicPresenter(electron.dialog),
    clientName: `nya-miner-desktop/${app.getVersion()}`,
  });
  for (const record of previousRun) services.logs.sink(record);
  restoreUserPause(services, prefs);

  const win = createMainWindow({
    BrowserWindow: electron.BrowserWindow,
    preloadPath: distPath('main', 'preload.cjs'),
    iconPath: resourcePath('assets', 'icons', 'icon-256.png'),
    show: !o.startHidden,
    devTools: !app.isPackaged,
  });
  const trustedIds = new Set([win.webContents.id]);
  const unregisterIpc = registerIpcHandlers({ ipcMain, router: services.router, trustedWebContentsIds: () => trustedIds, log });
  const pusher = new StatePusher(win, (listener) => services.state.subscribe(listener));
  pusher.start();

  let quitting = false;
  const trayNotice = onceEver({
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
  hideOnClose(win, { isQuitting: () => quitting, onHiddenToTray: trayNotice });

  const autostart = new Autostart({
    platform: process.platform,
    env: process.env,
    execPath: process.execPath,
    homeDir: app.getPath('home'),
    loginItems: app,
  });
  // A dev run (`electron .`) must not register the bare Electron binary as a login item.
  if (app.isPackaged && autostart.supported) autostart.setEnabled(prefs.get().openAtLogin);

  const updater = app.isPackaged ? electronUpdater(hub.logger('updater')) : null;
  const updates = updater
    ? new UpdateCoordinator({
        updater,
        enabled: () => prefs.get().updateChecks,
        outboxPending: () => services.state.get().validator.outboxPending,
        install: async () => {
          await shutdown();
          updater.quitAndInstall();
        },
        log: hub.logger('updater'),
      })
    : null;

  const setPref = (patch: Partial<DesktopPrefs>) => {
    prefs.update(patch);
    tray.refresh();
  };
  const onTrayAction = (action: TrayAction) => {
    switch (action.kind) {
      case 'set-paused':
        services.miner.setPaused(action.paused, action.forMs);
        return;
      case 'open-window':
        revealWindow(win);
        return;
      case 'open-logs':
        void electron.shell.openPath(logsDir);
        return;
      case 'set-open-at-login':
        if (app.isPackaged) autostart.setEnabled(action.enabled);
        setPref({ openAtLogin: action.enabled });
        return;
      case 'set-update-checks':
        setPref({ updateChecks: action.enabled });
        if (action.enabled) void updates?.checkNow();
        return;
      case 'quit':
        app.quit();
        return;
    }
  };
  const tray = new TrayController({
    iconDir: resourcePath('assets', 'icons'),
    prefs: () => ({ openAtLogin: prefs.get().openAtLogin, updateChecks: prefs.get().updateChecks }),
    onAction: onTrayAction,
    createTray: (iconPath) => new electron.Tray(iconPath),
    buildMenu: (template) => electron.Menu.buildFromTemplate(template),
  });
  tray.update(services.state.get());
  const unsubscribeTray = services.state.subscribe((snapshot) => tray.update(snapshot));
  const unsubscribePause = services.state.subscribe((snapshot) => rememberUserPause(prefs, snapshot.miner));

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
    config: () => desktopPolicyConfig(services.state.get().settings),
    log: hub.logger('policy'),
  });
  // Unplugging or waking must not wait for the next poll.
  const decideNow = () => void policy.tick();
  powerMonitor.on('on-battery', decideNow);
  powerMonitor.on('on-ac', decideNow);
  powerMonitor.on('resume', decideNow);
  powerMonitor.on('unlock-screen', decideNow);

  let shutdownPromise: Promise<void> | null = null;
  let shutdownDone = false;
  function shutdown(): Promise<void> {
    quitting = true;
    shutdownPromise ??= (async () => {
      log.info('quitting: stopping the miner');
      updates?.dispose();
      unsubscribeTray();
      unsubscribePause();
      pusher.dispose();
      unregisterIpc();
      await policy.dispose();
      const disposed = await withTimeout(services.dispose(), DISPOSE_TIMEOUT_MS);
      if (!disposed) log.warn(`services did not stop within ${DISPOSE_TIMEOUT_MS / 1000} s; quitting anyway`);
      tray.dispose();
      fileLog.close();
      shutdownDone = true;
    })();
    return shutdownPromise;
  }
  app.on('before-quit', (event) => {
    quitting = true;
    if (shutdownDone) return;
    // Quit waits for the miner to hand back the GPU and close its files, then quits for real.
    event.preventDefault();
    void shutdown()
      .catch((error) => process.stderr.write(`shutdown failed: ${errorMessage(error)}\n`))
      .finally(() => {
        shutdownDone = true;
        app.quit();
      });
  });
  // A tray app lives on with no window; only Quit ends it.
  app.on('window-all-closed', () => undefined);

  if (o.testHooks && !app.isPackaged) {
    (globalThis as Record<string, unknown>).__nyaTest = {
      trayMenuLabels: () => [...tray.menuLabels],
      stateSeq: () => services.state.get().seq,
      windowId: win.id,
    };
  }

  // The policy's first hold is in place before the miner loop starts: no burst of mining while
  // the user is at the keyboard.
  policy.start();
  await services.start();
  updates?.start();
  log.info(`desktop app ready (${o.startHidden ? 'in the tray' : 'window shown'})`);
  return { services, window: win, reveal: () => revealWindow(win) };
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
