import { errorMessage, type Logger } from '../../src-node/log';

/**
 * When to look for updates and when to install one. Checks run only while the user allows them
 * (a tray checkbox); a downloaded update installs only once the result outbox is empty, so no
 * computed result waits on disk across a version change, and never on quit by surprise.
 * electron-updater sits behind `UpdaterPort` (see `updater.ts`), so this is tested in Node.
 */
export interface UpdaterPort {
  checkForUpdates(): Promise<unknown>;
  onAvailable(listener: (version: string) => void): void;
  onDownloaded(listener: (version: string) => void): void;
  onError(listener: (error: Error) => void): void;
}

/**
 * How a format updates (docs/PACKAGING.md, Updates). `install`: electron-updater downloads and
 * installs (the Windows NSIS installer, the AppImage, which replaces its own file). `notify`: the
 * app only tells the user a new version is out. The `.deb` is installed by the system's package
 * manager and no apt repository exists, so it is never replaced behind the user's back (which
 * electron-updater would do with `dpkg -i` behind a password prompt): the user downloads the new
 * `.deb`.
 */
export type UpdateMode = 'install' | 'notify';

export function updateModeFor(platform: NodeJS.Platform, env: Record<string, string | undefined>): UpdateMode {
  if (platform === 'win32') return 'install';
  // The AppImage runtime sets APPIMAGE to the file it runs from; electron-updater replaces that file.
  if (platform === 'linux' && env.APPIMAGE) return 'install';
  return 'notify';
}

export interface UpdateCoordinatorOptions {
  updater: UpdaterPort;
  mode: UpdateMode;
  /** `notify` mode: tell the user once per version where to download it. */
  notify: (version: string) => void;
  enabled: () => boolean;
  /** Results on disk not yet acknowledged by the validator. */
  outboxPending: () => number;
  /** Shut the services down and restart into the new version. */
  install: () => Promise<void> | void;
  log: Logger;
  firstCheckAfterMs?: number;
  checkEveryMs?: number;
  /** How often a waiting install looks at the outbox again. */
  installPollMs?: number;
}

export class UpdateCoordinator {
  private timers: ReturnType<typeof setTimeout>[] = [];
  private downloadedVersion: string | null = null;
  private installing = false;
  private waitLogged = false;
  private notifiedVersion: string | null = null;

  constructor(private readonly o: UpdateCoordinatorOptions) {
    o.updater.onAvailable((version) => {
      if (o.mode !== 'notify' || this.notifiedVersion === version) return;
      this.notifiedVersion = version;
      o.log.info(`update ${version} is available; this package does not update itself`);
      o.notify(version);
    });
    o.updater.onDownloaded((version) => {
      if (o.mode !== 'install') return;
      this.downloadedVersion = version;
      o.log.info(`update ${version} downloaded; it installs once the outbox is empty`);
      this.tryInstall();
    });
    o.updater.onError((error) => o.log.warn(`update check failed: ${errorMessage(error)}`));
  }

  start(): void {
    this.schedule(() => void this.checkNow(), this.o.firstCheckAfterMs ?? 60_000);
    const every = setInterval(() => void this.checkNow(), this.o.checkEveryMs ?? 6 * 3600_000);
    every.unref?.();
    this.timers.push(every);
    const poll = setInterval(() => this.tryInstall(), this.o.installPollMs ?? 30_000);
    poll.unref?.();
    this.timers.push(poll);
  }

  dispose(): void {
    for (const t of this.timers.splice(0)) clearTimeout(t);
  }

  get pendingVersion(): string | null {
    return this.downloadedVersion;
  }

  async checkNow(): Promise<void> {
    if (!this.o.enabled()) return;
    try {
      await this.o.updater.checkForUpdates();
    } catch (error) {
      this.o.log.warn(`update check failed: ${errorMessage(error)}`);
    }
  }

  /** Installs the downloaded update if checks are on and nothing is waiting in the outbox. */
  tryInstall(): boolean {
    if (!this.downloadedVersion || this.installing || !this.o.enabled()) return false;
    const pending = this.o.outboxPending();
    if (pending > 0) {
      if (!this.waitLogged) this.o.log.info(`update ${this.downloadedVersion} waits for ${pending} results to be sent`);
      this.waitLogged = true;
      return false;
    }
    this.installing = true;
    this.o.log.info(`installing update ${this.downloadedVersion}`);
    void Promise.resolve()
      .then(() => this.o.install())
      .catch((error) => {
        this.installing = false;
        this.o.log.error(`update install failed: ${errorMessage(error)}`);
      });
    return true;
  }

  private schedule(fn: () => void, ms: number): void {
    const t = setTimeout(fn, ms);
    t.unref?.();
    this.timers.push(t);
  }
}
