import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startHeadless, type Headless } from '../../compose/headless';
import { defaultDataDir } from '../../../src-node/data-dir';
import { LogHub, type LogRecord } from '../../../src-node/log';
import { ExecutionProviderChoice, type Settings } from '../../../src-shared/state';
import { GPU_MEMORY_ENV, parseGpuMemoryMiB } from '../../gpu';
import { BUILD_DEFAULT_NETWORK, loadNetworks } from '../../settings/networks';
import { walletPassphrase } from '../wallet-passphrase';
import type { CannotMine } from '../../miner/cannot-mine';

const HELP = `usage: nya mine [options]

Mines with the same services as the desktop app and serves its dashboard on loopback.
On the "local" network (the default of this build: ${BUILD_DEFAULT_NETWORK}) it runs an embedded local
validator and the bundled demo model. For a real network's validator, with no --model, it gets the
teacher that validator hands out (the largest variant that fits the GPU) and then mines with it.

options:
  --dashboard-port N   dashboard port on 127.0.0.1 (default 7420; 0 picks a free port)
  --data-dir DIR       where settings, results and keys live (default ${defaultDataDir()})
  --network NAME       join this network (assets/networks.json, or networks.json in the data folder)
  --validator URL      mine for this validator instead of the network's
  --model DIR          teacher model folder (ONNX export); default: saved settings, else the validator's
  --gpu-memory-mib N   choose the teacher for this much GPU memory (or ${GPU_MEMORY_ENV}); default: the card's
  --ep auto|cpu|cuda|dml   execution provider for this run
  --local-epoch-s N    epoch length of the embedded validator (default 3600), to watch epochs close
  --quiet              print only the dashboard line and errors

The mining key for a remote validator is unlocked with NYA_WALLET_PASSPHRASE or, as a systemd
service ('nya service install'), the credential wallet-passphrase.
A validator that cannot be reached is retried with backoff; a miner that cannot mine at all (no
mining key, an unusable model, a model the validator does not accept) exits with status 78 and
says what to run.`;

/** sysexits' EX_CONFIG: a service manager can tell "fix the configuration" from a crash and not restart. */
const EXIT_CANNOT_MINE = 78;

/** After the first signal, how long closing may take before the process exits anyway. */
const SHUTDOWN_LIMIT_MS = 15_000;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseMineArgs(argv);
  if ('exitCode' in parsed) return parsed.exitCode;
  mkdirSync(parsed.dataDir, { recursive: true });
  const hub = new LogHub();
  hub.attach(logPrinter(parsed.quiet));
  const headless = await startOrExplain(parsed, hub);
  if (!headless) return 1;
  // One line, exactly this shape: scripts and tests read it.
  console.log(`dashboard: ${headless.dashboard.url}`);
  // Only a setup that never mined exits: once this run has labelled a task, what stops it later
  // (a key removed from the dashboard, a validator that changed its model) is the status line's to say.
  const { services } = headless;
  const tasksAtStart = services.state.get().tokens.tasksCompleted;
  let mined = false;
  services.state.onChange((s) => (mined ||= s.tokens.tasksCompleted > tasksAtStart));
  const blocked = new Promise<CannotMine>((resolve) => services.onCannotMine((error) => !mined && resolve(error)));
  // Ctrl-C and SIGTERM are ours from here: starting (a key check, the first lease) may take a while.
  const finished = untilSignalledOrBlocked(headless, blocked, parsed);
  await services.start();
  return finished;
}

/** What the user runs to get past `error`, for this command line. */
function fixFor(error: CannotMine, o: MineOptions): string {
  const validator = o.settingsOverrides.validatorUrl ?? 'URL';
  switch (error.reason) {
    case 'model-unusable':
      return o.modelGiven
        ? 'leave out --model to mine with the bundled demo model, or check the folder with `nya model verify DIR`'
        : 'check the saved model folder with `nya model verify DIR`, download it again with `nya model download VARIANT`, or pass --model DIR';
    case 'no-mining-key':
      return `create a mining key with \`NYA_WALLET_PASSPHRASE=... nya wallet create\` (or import one: \`nya wallet --help\`), then \`NYA_WALLET_PASSPHRASE=... nya mine --validator ${validator}\`; or leave out --validator to mine locally`;
    case 'wallet-locked':
      return `start with the passphrase of your mining key: \`NYA_WALLET_PASSPHRASE=... nya mine --validator ${validator}\`; or leave out --validator to mine locally`;
    case 'wrong-model':
      return 'mine with the model this validator accepts: `nya model list`, `nya model download VARIANT`, then `nya mine --model DIR`';
  }
}

interface MineOptions {
  dashboardPort: number;
  dataDir: string;
  quiet: boolean;
  gpuMemoryMiB: number | null;
  localEpochMs?: number;
  /** --model was given (so leaving it out is a fix). */
  modelGiven: boolean;
  settingsOverrides: Partial<Settings>;
}

/** The options, or the exit code when there is nothing to run (help, or a usage error, printed). */
function parseMineArgs(argv: string[]): MineOptions | { exitCode: number } {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        'dashboard-port': { type: 'string', default: '7420' },
        'data-dir': { type: 'string' },
        validator: { type: 'string' },
        network: { type: 'string' },
        'gpu-memory-mib': { type: 'string' },
        model: { type: 'string' },
        ep: { type: 'string' },
        'local-epoch-s': { type: 'string' },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }).values;
  } catch (error) {
    console.error(`nya mine: ${(error as Error).message}\n\n${HELP}`);
    return { exitCode: 2 };
  }
  if (args.help) {
    console.log(HELP);
    return { exitCode: 0 };
  }
  const dataDir = resolve(args['data-dir'] ?? defaultDataDir());
  let gpuMemoryMiB: number | null = null;
  let usageError = checkValues(args['dashboard-port'], args.ep, args.validator) ?? checkNetwork(args.network, dataDir);
  try {
    if (args['gpu-memory-mib'] !== undefined) gpuMemoryMiB = parseGpuMemoryMiB(args['gpu-memory-mib'], '--gpu-memory-mib');
  } catch (error) {
    usageError ??= (error as Error).message;
  }
  const localEpochS = args['local-epoch-s'] === undefined ? undefined : Number(args['local-epoch-s']);
  if (localEpochS !== undefined && !(Number.isInteger(localEpochS) && localEpochS >= 10 && localEpochS <= 86_400))
    usageError ??= `--local-epoch-s must be a whole number of seconds from 10 to 86400, got '${args['local-epoch-s']}'`;
  if (usageError) {
    console.error(`nya mine: ${usageError}`);
    return { exitCode: 2 };
  }
  const ep = args.ep ? ExecutionProviderChoice.parse(args.ep) : undefined;
  return {
    dashboardPort: Number(args['dashboard-port']),
    dataDir,
    quiet: args.quiet,
    gpuMemoryMiB,
    ...(localEpochS ? { localEpochMs: localEpochS * 1000 } : {}),
    modelGiven: args.model !== undefined,
    settingsOverrides: {
      // A network named here is joined with its own validator, unless --validator names another.
      ...(args.network ? { network: args.network, validatorUrl: null } : {}),
      ...(args.validator ? { validatorUrl: args.validator } : {}),
      ...(args.model ? { modelDir: resolve(args.model) } : {}),
      ...(ep ? { executionProvider: ep } : {}),
    },
  };
}

/** What is wrong with the option values, as a sentence; null when nothing is. */
function checkValues(dashboardPort: string, ep: string | undefined, validator: string | undefined): string | null {
  const port = Number(dashboardPort);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    return `--dashboard-port must be a port number (0-65535), got '${dashboardPort}'`;
  }
  if (ep && !ExecutionProviderChoice.safeParse(ep).success) return `--ep must be auto, cpu, cuda or dml, got '${ep}'`;
  if (validator) {
    try {
      new URL(validator);
    } catch {
      return `--validator must be a URL such as https://validator.example.org, got '${validator}'`;
    }
  }
  return null;
}

/** Why `--network NAME` cannot be joined (no such network, listing the known ones); null when it can. */
function checkNetwork(name: string | undefined, dataDir: string): string | null {
  if (name === undefined) return null;
  const { networks } = loadNetworks(dataDir);
  if (networks.some((n) => n.name === name)) return null;
  return `--network: no network '${name}'; known: ${networks.map((n) => n.name).join(', ')} (add one in ${dataDir}/networks.json, see docs/MODELS.md)`;
}

/** Log records to stderr, one line each; debug never, and only errors when quiet. */
function logPrinter(quiet: boolean): (record: LogRecord) => void {
  return (r) => {
    if (quiet && r.level !== 'error') return;
    if (r.level === 'debug') return;
    process.stderr.write(`${new Date(r.atMs).toISOString()} ${r.level.padEnd(5)} [${r.source}] ${r.message}\n`);
  };
}

/** Starts the services and the dashboard; on failure prints what to do and resolves null. */
function startOrExplain(o: MineOptions, hub: LogHub): Promise<Headless | null> {
  return startHeadless({
    dataDir: o.dataDir,
    dashboardPort: o.dashboardPort,
    log: hub,
    walletPassphrase: walletPassphrase(),
    settingsOverrides: o.settingsOverrides,
    ...(o.gpuMemoryMiB !== null ? { gpuMemoryMiB: o.gpuMemoryMiB } : {}),
    ...(o.localEpochMs ? { localEpochMs: o.localEpochMs } : {}),
  }).catch((error: unknown) => {
    const message = (error as Error).message;
    console.error(
      (error as NodeJS.ErrnoException).code === 'EADDRINUSE'
        ? `nya mine: port ${o.dashboardPort} is in use (is another nya mine running?); pass --dashboard-port 0 for a free one`
        : `nya mine: ${message}`,
    );
    return null;
  });
}

/**
 * Runs until SIGINT or SIGTERM, then closes (results on disk are kept) and resolves the exit code.
 * A second signal exits at once; a shutdown past SHUTDOWN_LIMIT_MS exits with 1. When mining
 * cannot go on (`blocked`), it says why and how to fix it, closes and resolves EXIT_CANNOT_MINE.
 */
function untilSignalledOrBlocked(headless: Headless, blocked: Promise<CannotMine>, o: MineOptions): Promise<number> {
  return new Promise<number>((done) => {
    let stopping = false;
    void blocked.then((error) => {
      if (stopping) return;
      stopping = true;
      // The reason is already on the log's error line just above; this adds what to do about it.
      process.stderr.write(`nya mine: cannot mine; to fix it, ${fixFor(error, o)}\n`);
      void headless.close().then(
        () => done(EXIT_CANNOT_MINE),
        () => done(EXIT_CANNOT_MINE),
      );
    });
    const stop = (signal: string) => {
      if (stopping) {
        process.stderr.write('nya mine: forced exit\n');
        process.exit(130);
      }
      stopping = true;
      process.stderr.write(`nya mine: ${signal}, shutting down (results on disk are kept)…\n`);
      const force = setTimeout(() => {
        process.stderr.write('nya mine: shutdown took too long; exiting\n');
        process.exit(1);
      }, SHUTDOWN_LIMIT_MS);
      force.unref();
      void headless.close().then(
        () => done(0),
        (error: unknown) => {
          process.stderr.write(`nya mine: shutdown error: ${(error as Error).message}\n`);
          done(1);
        },
      );
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}
