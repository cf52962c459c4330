import * as nodeFs from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Start on login, minimised to the tray. Windows and macOS keep login items in the OS
 * (`app.setLoginItemSettings`, reached through `LoginItemPort`); Linux desktops read XDG autostart
 * entries, so there we write `~/.config/autostart/nya-miner.desktop`. An AppImage runs from a
 * temporary mount whose path changes every launch, so the entry must name `$APPIMAGE` (the file
 * the user keeps), never `process.execPath`.
 */

export const HIDDEN_ARG = '--hidden';
const DESKTOP_FILE_NAME = 'nya-miner.desktop';

/** The slice of Electron's `app` this needs; `app` itself fits it. */
export interface LoginItemPort {
  setLoginItemSettings(settings: { openAtLogin: boolean; openAsHidden?: boolean; args?: string[] }): void;
  getLoginItemSettings(options?: { args?: string[] }): { openAtLogin: boolean };
}

export type AutostartFs = Pick<typeof nodeFs, 'existsSync' | 'readFileSync' | 'writeFileSync' | 'mkdirSync' | 'rmSync'>;

export interface AutostartOptions {
  platform: NodeJS.Platform;
  env: Record<string, string | undefined>;
  execPath: string;
  homeDir: string;
  loginItems: LoginItemPort;
  fs?: AutostartFs;
}

/** `$XDG_CONFIG_HOME/autostart`, defaulting to `~/.config/autostart` as the XDG spec says. */
export function autostartDesktopPath(env: Record<string, string | undefined>, homeDir: string): string {
  const configHome = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : join(homeDir, '.config');
  return join(configHome, 'autostart', DESKTOP_FILE_NAME);
}

/** What to launch: the AppImage file when running from one, else this executable. */
export function linuxLaunchPath(env: Record<string, string | undefined>, execPath: string): string {
  return env.APPIMAGE && env.APPIMAGE.length > 0 ? env.APPIMAGE : execPath;
}

/**
 * One Exec argument, per the Desktop Entry spec: quote when it holds anything but safe
 * characters, backslash-escape `"` `` ` `` `$` `\` inside quotes, double `%` (field codes), and
 * then escape backslashes again because the whole value is itself a spec "string".
 */
export function quoteExecArg(arg: string): string {
  if (/[\n\r\t\0]/.test(arg)) throw new Error(`cannot put a control character in an autostart command: ${JSON.stringify(arg)}`);
  const percent = arg.replace(/%/g, '%%');
  const quoted = /^[A-Za-z0-9_\-./+,:=@%]+$/.test(percent) ? percent : `"${percent.replace(/["`$\\]/g, '\\$&')}"`;
  return quoted.replace(/\\/g, '\\\\');
}

export function desktopEntry(launchPath: string): string {
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Version=1.0',
    'Name=Nya Miner',
    'Comment=Mine soft labels while this computer is idle',
    `Exec=${quoteExecArg(launchPath)} ${HIDDEN_ARG}`,
    'Icon=nya-miner',
    'Terminal=false',
    'Categories=Utility;',
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n');
}

export class Autostart {
  private readonly fs: AutostartFs;

  constructor(private readonly o: AutostartOptions) {
    this.fs = o.fs ?? nodeFs;
  }

  get supported(): boolean {
    return ['win32', 'darwin', 'linux'].includes(this.o.platform);
  }

  isEnabled(): boolean {
    if (this.o.platform === 'linux') return this.fs.existsSync(this.desktopPath());
    if (this.o.platform === 'win32') return this.o.loginItems.getLoginItemSettings({ args: [HIDDEN_ARG] }).openAtLogin;
    if (this.o.platform === 'darwin') return this.o.loginItems.getLoginItemSettings().openAtLogin;
    return false;
  }

  /**
   * Turn it on or off. On Linux an existing entry is rewritten when it names another path (the
   * AppImage was moved or updated), so calling this at every start keeps the entry current.
   */
  setEnabled(enabled: boolean): void {
    const p = this.o.platform;
    if (p === 'linux') this.writeLinuxEntry(enabled);
    // Windows passes the args to the app at login; macOS has no args, `openAsHidden` instead.
    else if (p === 'win32') this.o.loginItems.setLoginItemSettings({ openAtLogin: enabled, args: [HIDDEN_ARG] });
    else if (p === 'darwin') this.o.loginItems.setLoginItemSettings({ openAtLogin: enabled, openAsHidden: true });
  }

  desktopPath(): string {
    return autostartDesktopPath(this.o.env, this.o.homeDir);
  }

  private writeLinuxEntry(enabled: boolean): void {
    const path = this.desktopPath();
    if (!enabled) {
      this.fs.rmSync(path, { force: true });
      return;
    }
    const content = desktopEntry(linuxLaunchPath(this.o.env, this.o.execPath));
    if (this.fs.existsSync(path) && this.fs.readFileSync(path, 'utf8') === content) return;
    this.fs.mkdirSync(dirname(path), { recursive: true });
    this.fs.writeFileSync(path, content, { mode: 0o644 });
  }
}

/** Was this launch the login item's? Then the window stays in the tray. */
export function launchedHidden(argv: readonly string[]): boolean {
  return argv.includes(HIDDEN_ARG);
}
