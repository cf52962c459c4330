import * as electron from 'electron';
import { composeElectron, type DesktopApp } from '../compose/electron';
import { launchedHidden } from '../desktop/autostart';
import { errorMessage } from '../../src-node/log';
import { APP_SCHEME_PRIVILEGES } from './security';

/**
 * The Electron entry (bundled to dist/main/electron-main.cjs). Everything before `ready` lives
 * here: the app:// scheme's privileges, the profile folder, the single-instance lock. The rest
 * is built by compose/electron.ts.
 */
const { app, dialog, protocol } = electron;

// `--user-data-dir=DIR` gives a run its own profile (the smoke test, a second test install).
const userDataArg = process.argv.find((a) => a.startsWith('--user-data-dir='));
if (userDataArg) app.setPath('userData', userDataArg.slice('--user-data-dir='.length));

protocol.registerSchemesAsPrivileged([APP_SCHEME_PRIVILEGES]);
if (process.platform === 'win32') app.setAppUserModelId('net.nya.miner');

if (!app.requestSingleInstanceLock()) {
  // Another instance owns this profile: it shows its window (below), this one leaves.
  app.quit();
} else {
  let desktop: DesktopApp | null = null;
  app.on('second-instance', () => desktop?.reveal());
  // macOS: clicking the dock icon of a running app brings its window back.
  app.on('activate', () => desktop?.reveal());
  app
    .whenReady()
    .then(async () => {
      desktop = await composeElectron(electron, {
        startHidden: launchedHidden(process.argv),
        testHooks: process.env.NYA_TEST_HOOKS === '1',
        echoLogs: !app.isPackaged,
      });
    })
    .catch((error) => {
      dialog.showErrorBox('Nya Miner could not start', errorMessage(error));
      app.exit(1);
    });
}
