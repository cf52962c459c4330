import type { Logger } from '../../src-node/log';
import type { UpdaterPort } from './update-coordinator';

/**
 * electron-updater behind `UpdaterPort`. It downloads in the background but never installs on
 * quit by itself: `UpdateCoordinator` decides when (outbox empty), then calls `quitAndInstall`.
 * The feed comes from electron-builder's `publish` block (baked into app-update.yml).
 *
 * Loaded on first use: reading `autoUpdater` constructs the platform updater, which needs a
 * running, packaged Electron app; an import at the top would do that in every development run.
 */
export function electronUpdater(log: Logger): UpdaterPort & { quitAndInstall(): void } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, see above
  const { autoUpdater } = require('electron-updater') as typeof import('electron-updater');
  autoUpdater.autoDownload = true;
  autoUpdater.autoInstallOnAppQuit = false;
  autoUpdater.logger = { info: log.info, warn: log.warn, error: log.error, debug: log.debug };
  return {
    checkForUpdates: () => autoUpdater.checkForUpdates(),
    onDownloaded: (listener) => void autoUpdater.on('update-downloaded', (info) => listener(info.version)),
    onError: (listener) => void autoUpdater.on('error', listener),
    // Silent (no installer UI on Windows), and start the new version afterwards.
    quitAndInstall: () => autoUpdater.quitAndInstall(true, true),
  };
}
