// Boots the built dist/main/electron-main.cjs in plain Node with the fake Electron standing in
// for `require('electron')`, and prints what happened as one JSON line. Bundled and run by
// test/electron/main-bundle.test.ts.
import Module from 'node:module';
import { fakeElectron } from '../fake-electron';

const [bundle, userData, home] = process.argv.slice(2) as [string, string, string];
const fake = fakeElectron({ userData: `${userData}-unused`, home, idleSeconds: () => 0 });
const loader = Module as unknown as { _load(request: string, ...rest: unknown[]): unknown };
const load = loader._load;
loader._load = function (request: string, ...rest: unknown[]) {
  return request === 'electron' ? fake.electron : load.call(this, request, ...rest);
};
process.argv.push(`--user-data-dir=${userData}`);

const deadline = Date.now() + 30_000;
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the bundle is CommonJS and must load under the patched loader
require(bundle);
const timer = setInterval(() => {
  const win = fake.windows[0];
  const pushed = win?.sent.some(([channel]) => channel === 'state');
  if (!(pushed && fake.trays[0]?.menu) && fake.errors.length === 0 && Date.now() < deadline) return;
  clearInterval(timer);
  const report = {
    errors: fake.errors,
    schemes: fake.schemes,
    userData: fake.paths.get('userData'),
    loadedUrl: win?.loadedUrl ?? null,
    preload: (win?.options.webPreferences as { preload?: string } | undefined)?.preload ?? null,
    pushed: Boolean(pushed),
    handlers: [...fake.handlers.keys()],
    trayImage: fake.trays[0]?.image ?? null,
  };
  fake.electron.app.quit();
  const waitQuit = setInterval(() => {
    if (fake.electron.app.quitCalls < 2 && Date.now() < deadline + 20_000) return;
    clearInterval(waitQuit);
    process.stdout.write(`${JSON.stringify(report)}\n`);
    process.exit(0);
  }, 50);
}, 50);
