import { autoUpdater } from 'electron-updater';
import type { Logger } from '../log';
import type { UpdaterPort } from './update-coordinator';

/**
 * electron-updater behind `UpdaterPort`. It downloads in the background but never installs on
 * quit by itself: `UpdateCoordinator` decides when (outbox empty), then calls `quitAndInstall`.
 * The feed comes from electron-builder's `publish` block (baked into app-update.yml).
 */
export function electronUpdater(log: Logger): UpdaterPort & { quitAndInstall(): void } {
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
