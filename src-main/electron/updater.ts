import type { Logger } from '../../src-node/log';
import type { UpdateMode, UpdaterPort } from './update-coordinator';

/**
 * electron-updater behind `UpdaterPort`. It downloads in the background but never installs on
 * quit by itself: `UpdateCoordinator` decides when (outbox empty), then calls `quitAndInstall`.
 * The feed comes from electron-builder's `publish` block (baked into app-update.yml); the page
 * below is where the same releases are downloaded by hand (test/packaging/builder-config.test.ts
 * checks the two name the same repository).
 *
 * Loaded on first use: reading `autoUpdater` constructs the platform updater, which needs a
 * running, packaged Electron app; an import at the top would do that in every development run.
 */
export function electronUpdater(log: Logger, mode: UpdateMode): UpdaterPort & { quitAndInstall(): void } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, see above
  const { autoUpdater } = require('electron-updater') as typeof import('electron-updater');
  // `notify` mode only learns that a version exists: nothing is downloaded that would not be installed.
  autoUpdater.autoDownload = mode === 'install';
  autoUpdater.autoInstallOnAppQuit = false;
  autoUpdater.logger = { info: log.info, warn: log.warn, error: log.error, debug: log.debug };
  return {
    checkForUpdates: () => autoUpdater.checkForUpdates(),
    onAvailable: (listener) => void autoUpdater.on('update-available', (info) => listener(info.version)),
    onDownloaded: (listener) => void autoUpdater.on('update-downloaded', (info) => listener(info.version)),
    onError: (listener) => void autoUpdater.on('error', listener),
    // Silent (no installer UI on Windows), and start the new version afterwards.
    quitAndInstall: () => autoUpdater.quitAndInstall(true, true),
  };
}

/** Where a user of a package that does not update itself (the `.deb`) downloads the new version. */
export const RELEASES_PAGE_URL = 'https://github.com/nya-subnet/nya-miner/releases/latest';
