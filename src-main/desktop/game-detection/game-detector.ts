import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { queryOtherGpuProcesses, type CommandRunner } from '../../gpu';
import { errorMessage, silentLogger, type Logger } from '../../../src-node/log';
import type { GameSignal, OtherGpuProcess } from '../../policy/signals';
import { STEAM_REG_KEY, appNameFromManifest, libraryFolders, parseRegQueryValue, positiveId, runningAppIdFromRegistryVdf } from './steam';
import { NOTIFICATION_STATE_COMMAND, notificationStateSignal, parseNotificationState } from './windows-notification-state';
import { ACTIVE_WINDOW_ARGS, parseActiveWindow, parseWindowState, windowStateArgs } from './x11-fullscreen';

/** Reads a text file; null when it does not exist or cannot be read. */
export type ReadText = (path: string) => Promise<string | null>;

/** One detector. `null` from probe means "cannot tell here" (no X server, no Steam, no nvidia-smi). */
export interface SignalProbe {
  name: string;
  probe(): Promise<GameSignal[] | null>;
}

export interface GameDetectorOptions {
  platform: NodeJS.Platform;
  run: CommandRunner;
  readText: ReadText;
  homeDir: string;
  /** Our own teacher worker(s), which nvidia-smi lists too. */
  ownPids: () => Iterable<number>;
  nvidiaSmi?: string;
  timeoutMs?: number;
  logger?: Logger;
}

export interface Detection {
  games: GameSignal[];
  /** null: cannot tell (no nvidia-smi). */
  otherGpuProcesses: OtherGpuProcess[] | null;
  /** Probes that could not answer this time. */
  unavailable: string[];
}

/**
 * The game and GPU-contention signals for this platform, polled together. A probe that cannot
 * answer is logged once (when it starts failing) and otherwise ignored: a missing xprop must not
 * stop mining, it only means that signal is not watched.
 */
export class GameDetector {
  readonly probes: SignalProbe[];
  private readonly log: Logger;
  private readonly failing = new Set<string>();

  constructor(private readonly opts: GameDetectorOptions) {
    this.log = opts.logger ?? silentLogger;
    this.probes = probesFor(opts);
  }

  async detect(): Promise<Detection> {
    const [answers, otherGpuProcesses] = await Promise.all([
      Promise.all(this.probes.map((probe) => this.ask(probe))),
      queryOtherGpuProcesses(this.opts.run, {
        nvidiaSmi: this.opts.nvidiaSmi,
        excludePids: this.opts.ownPids(),
        timeoutMs: this.opts.timeoutMs,
      }),
    ]);
    return {
      games: answers.flatMap((answer) => answer ?? []),
      otherGpuProcesses,
      unavailable: this.probes.filter((_, i) => answers[i] === null).map((probe) => probe.name),
    };
  }

  private async ask(probe: SignalProbe): Promise<GameSignal[] | null> {
    let answer: GameSignal[] | null;
    let why = 'not available here';
    try {
      answer = await probe.probe();
    } catch (error) {
      answer = null;
      why = errorMessage(error);
    }
    if (answer === null && !this.failing.has(probe.name)) this.log.info(`Game detection: ${probe.name} ${why}`);
    if (answer === null) this.failing.add(probe.name);
    else this.failing.delete(probe.name);
    return answer;
  }
}

function probesFor(opts: GameDetectorOptions): SignalProbe[] {
  if (opts.platform === 'win32') return [windowsFullscreenProbe(opts), windowsSteamProbe(opts)];
  if (opts.platform === 'linux') return [x11FullscreenProbe(opts), linuxSteamProbe(opts)];
  return [];
}

async function stdoutOf(opts: GameDetectorOptions, file: string, args: readonly string[]): Promise<string | null> {
  const outcome = await opts.run(file, args, { timeoutMs: opts.timeoutMs ?? 5000 });
  return outcome.kind === 'exited' && outcome.exitCode === 0 ? outcome.stdout : null;
}

function windowsFullscreenProbe(opts: GameDetectorOptions): SignalProbe {
  return {
    name: 'Windows full-screen state',
    async probe() {
      const stdout = await stdoutOf(opts, NOTIFICATION_STATE_COMMAND.file, NOTIFICATION_STATE_COMMAND.args);
      if (stdout === null) return null;
      const signal = notificationStateSignal(parseNotificationState(stdout));
      return signal ? [signal] : [];
    },
  };
}

function windowsSteamProbe(opts: GameDetectorOptions): SignalProbe {
  const regValue = async (name: string) => {
    const stdout = await stdoutOf(opts, 'reg', ['query', STEAM_REG_KEY, '/v', name]);
    return stdout === null ? null : parseRegQueryValue(stdout, name);
  };
  return {
    name: 'Steam (registry)',
    async probe() {
      const running = await regValue('RunningAppID');
      if (running === null) return null;
      const appId = positiveId(running);
      if (appId === null) return [];
      const steamPath = await regValue('SteamPath');
      const name = typeof steamPath === 'string' ? await steamAppName(opts.readText, steamPath, appId) : null;
      return [steamSignal(appId, name, 'steam-registry')];
    },
  };
}

function linuxSteamProbe(opts: GameDetectorOptions): SignalProbe {
  const steamRoot = join(opts.homeDir, '.steam', 'steam');
  return {
    name: 'Steam (registry.vdf)',
    async probe() {
      const text = await opts.readText(join(opts.homeDir, '.steam', 'registry.vdf'));
      if (text === null) return null;
      const appId = runningAppIdFromRegistryVdf(text);
      if (appId === null) return [];
      return [steamSignal(appId, await steamAppName(opts.readText, steamRoot, appId), 'steam-registry-vdf')];
    },
  };
}

function x11FullscreenProbe(opts: GameDetectorOptions): SignalProbe {
  return {
    name: 'X11 full-screen window',
    async probe() {
      const active = await stdoutOf(opts, 'xprop', ACTIVE_WINDOW_ARGS);
      if (active === null) return null;
      const id = parseActiveWindow(active);
      if (id === null) return [];
      const state = await stdoutOf(opts, 'xprop', windowStateArgs(id));
      if (state === null) return [];
      const window = parseWindowState(state);
      return window.fullscreen ? [{ kind: 'fullscreen', source: 'x11-fullscreen', name: window.name }] : [];
    },
  };
}

function steamSignal(appId: number, name: string | null, source: string): GameSignal {
  return { kind: 'steam-game', source, name: name ?? `Steam app ${appId}` };
}

/** The game's name from its manifest in the main library or any other library folder. */
async function steamAppName(readText: ReadText, steamRoot: string, appId: number): Promise<string | null> {
  const manifest = `appmanifest_${appId}.acf`;
  const folders = await readText(join(steamRoot, 'steamapps', 'libraryfolders.vdf'));
  const libraries = [steamRoot, ...(folders ? safeLibraryFolders(folders) : [])];
  for (const library of libraries) {
    const text = await readText(join(library, 'steamapps', manifest));
    const name = text ? safeAppName(text) : null;
    if (name) return name;
  }
  return null;
}

function safeLibraryFolders(text: string): string[] {
  try {
    return libraryFolders(text);
  } catch {
    return [];
  }
}

function safeAppName(text: string): string | null {
  try {
    return appNameFromManifest(text);
  } catch {
    return null;
  }
}

/** The real ReadText. */
export const readTextFile: ReadText = (path) => readFile(path, 'utf8').catch(() => null);
