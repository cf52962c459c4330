import { homedir } from 'node:os';
import { join } from 'node:path';

const APP_DIR = 'nya-miner';

/**
 * Where a miner keeps what must survive a restart: the wallet, the result outbox, settings,
 * token totals. `nya mine`, `nya wallet` and the desktop app agree on it, so a key created with
 * `nya wallet create` is the key `nya mine` signs with. Follows each platform's convention for
 * per-user application data (XDG on Linux and the BSDs).
 */
export function defaultDataDir(
  env: Record<string, string | undefined> = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): string {
  if (platform === 'win32') return join(env.APPDATA || join(home, 'AppData', 'Roaming'), APP_DIR);
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', APP_DIR);
  const xdg = env.XDG_DATA_HOME;
  // The XDG spec says a relative XDG_DATA_HOME is invalid and must be ignored.
  if (xdg && xdg.startsWith('/')) return join(xdg, APP_DIR);
  return join(home, '.local', 'share', APP_DIR);
}
