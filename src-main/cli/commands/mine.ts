import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startHeadless } from '../../compose/headless';
import { defaultDataDir } from '../../../src-node/data-dir';
import { LogHub, type LogRecord } from '../../../src-node/log';

const HELP = `usage: nya mine [options]

Mines with the same services as the desktop app and serves its dashboard on loopback.
With no validator configured it runs an embedded local validator and the bundled demo model.

options:
  --dashboard-port N   dashboard port on 127.0.0.1 (default 7420; 0 picks a free port)
  --data-dir DIR       where settings, results and keys live (default ${defaultDataDir()})
  --validator URL      mine for this validator (saved settings otherwise)
  --model DIR          teacher model folder (ONNX export); default: saved settings or the demo model
  --ep auto|cpu|cuda|dml   execution provider for this run
  --quiet              print only the dashboard line and errors

The mining key for a remote validator is unlocked with NYA_WALLET_PASSPHRASE.`;

export async function run(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        'dashboard-port': { type: 'string', default: '7420' },
        'data-dir': { type: 'string' },
        validator: { type: 'string' },
        model: { type: 'string' },
        ep: { type: 'string' },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }).values;
  } catch (error) {
    console.error(`nya mine: ${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (args.help) {
    console.log(HELP);
    return 0;
  }
  const port = Number(args['dashboard-port']);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`nya mine: --dashboard-port must be a port number (0-65535), got '${args['dashboard-port']}'`);
    return 2;
  }
  if (args.ep && !['auto', 'cpu', 'cuda', 'dml'].includes(args.ep)) {
    console.error(`nya mine: --ep must be auto, cpu, cuda or dml, got '${args.ep}'`);
    return 2;
  }
  if (args.validator) {
    try {
      new URL(args.validator);
    } catch {
      console.error(`nya mine: --validator must be a URL such as https://validator.example.org, got '${args.validator}'`);
      return 2;
    }
  }
  const dataDir = resolve(args['data-dir'] ?? defaultDataDir());
  mkdirSync(dataDir, { recursive: true });

  const hub = new LogHub();
  const quiet = args.quiet;
  hub.attach((r: LogRecord) => {
    if (quiet && r.level !== 'error') return;
    if (r.level === 'debug') return;
    process.stderr.write(`${new Date(r.atMs).toISOString()} ${r.level.padEnd(5)} [${r.source}] ${r.message}\n`);
  });

  const headless = await startHeadless({
    dataDir,
    dashboardPort: port,
    log: hub,
    walletPassphrase: process.env.NYA_WALLET_PASSPHRASE ?? null,
    settingsOverrides: {
      ...(args.validator ? { validatorUrl: args.validator } : {}),
      ...(args.model ? { modelDir: resolve(args.model) } : {}),
      ...(args.ep ? { executionProvider: args.ep as 'auto' | 'cpu' | 'cuda' | 'dml' } : {}),
    },
  }).catch((error: unknown) => {
    const message = (error as Error).message;
    console.error(
      (error as NodeJS.ErrnoException).code === 'EADDRINUSE'
        ? `nya mine: port ${port} is in use (is another nya mine running?); pass --dashboard-port 0 for a free one`
        : `nya mine: ${message}`,
    );
    return null;
  });
  if (!headless) return 1;
  // One line, exactly this shape: scripts and tests read it.
  console.log(`dashboard: ${headless.dashboard.url}`);
  await headless.services.start();

  return new Promise<number>((done) => {
    let stopping = false;
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
      }, 15_000);
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
