import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, realpathSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { writeFileAtomicSync } from '../../../src-node/atomic-write';
import { errorMessage } from '../../../src-node/log';
import {
  credentialPath,
  GPU_GROUPS,
  SERVICE_NAME,
  SERVICE_USER,
  systemdUnit,
  WALLET_PASSPHRASE_CREDENTIAL,
} from '../../service/systemd-unit';

const USAGE = `usage: nya service install [options]    run 'nya mine' as a systemd service (Linux, as root)
       nya service uninstall [options]  stop it and remove the unit (the data folder stays)

options:
  --dry-run              print the unit (install) or the steps (uninstall) and change nothing
  --user NAME            the system user it runs as (default ${SERVICE_USER}; created when missing)
  --plain-credential     read the wallet passphrase from a root-only file instead of a
                         'systemd-creds encrypt'ed one (needed before systemd 250)
  --validator URL, --model DIR, --ep auto|cpu|cuda|dml   passed to 'nya mine'
  --unit-dir DIR         where the unit goes (default /etc/systemd/system)

The data folder is /var/lib/${SERVICE_NAME} (StateDirectory=): wallet, settings, result outbox.`;

/** The system the command changes; tests pass their own. */
export interface ServiceIo {
  out(text: string): void;
  err(text: string): void;
  /** Runs a program; resolves its exit status (null when it could not start). */
  exec(file: string, args: string[]): { status: number | null; stderr: string };
  isRoot: boolean;
  platform: NodeJS.Platform;
  nodePath: string;
  cliPath: string;
}

const OPTIONS = {
  'dry-run': { type: 'boolean', default: false },
  user: { type: 'string', default: SERVICE_USER },
  'plain-credential': { type: 'boolean', default: false },
  validator: { type: 'string' },
  model: { type: 'string' },
  ep: { type: 'string' },
  'unit-dir': { type: 'string', default: '/etc/systemd/system' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

type Flags = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

export function run(argv: string[]): Promise<number> {
  return Promise.resolve(runService(argv, processIo()));
}

export function runService(argv: string[], io: ServiceIo): number {
  let flags: Flags;
  let positionals: string[];
  try {
    ({ values: flags, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true }));
  } catch (error) {
    io.err(`nya service: ${errorMessage(error)}\n\n${USAGE}`);
    return 2;
  }
  const [action, ...extra] = positionals;
  if (flags.help) {
    io.out(USAGE);
    return 0;
  }
  if ((action !== 'install' && action !== 'uninstall') || extra.length > 0) {
    io.err(USAGE);
    return 2;
  }
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(flags.user)) {
    io.err(`nya service: --user must be a plain user name, got '${flags.user}'`);
    return 2;
  }
  const unitPath = join(resolve(flags['unit-dir']), `${SERVICE_NAME}.service`);
  if (!flags['dry-run']) {
    if (io.platform !== 'linux') {
      io.err('nya service: systemd services are for Linux; on Windows and macOS use the desktop app, which starts at login.');
      return 1;
    }
    if (!io.isRoot) {
      io.err(`nya service: ${action} changes ${unitPath} and system users: run it as root (sudo), or add --dry-run.`);
      return 1;
    }
  }
  return action === 'install' ? install(flags, unitPath, io) : uninstall(flags['dry-run'], unitPath, io);
}

function install(flags: Flags, unitPath: string, io: ServiceIo): number {
  const credential = flags['plain-credential'] ? 'plain' : 'encrypted';
  const mineArgs = [
    ...(flags.validator ? ['--validator', flags.validator] : []),
    ...(flags.model ? ['--model', resolve(flags.model)] : []),
    ...(flags.ep ? ['--ep', flags.ep] : []),
  ];
  const gpuGroups = GPU_GROUPS.filter((group) => io.exec('getent', ['group', group]).status === 0);
  const unit = systemdUnit({ user: flags.user, nodePath: io.nodePath, cliPath: io.cliPath, credential, mineArgs, gpuGroups });
  if (flags['dry-run']) {
    io.out(unit);
    return 0;
  }
  if (io.exec('getent', ['passwd', flags.user]).status !== 0) {
    const made = io.exec('useradd', [
      '--system',
      '--user-group',
      '--no-create-home',
      '--home-dir',
      `/var/lib/${SERVICE_NAME}`,
      '--shell',
      '/usr/sbin/nologin',
      flags.user,
    ]);
    if (made.status !== 0) {
      io.err(`nya service: could not create the user ${flags.user}: ${made.stderr.trim() || 'useradd failed'}`);
      return 1;
    }
    io.out(`created the system user ${flags.user}`);
  }
  writeFileAtomicSync(unitPath, unit);
  chmodSync(unitPath, 0o644);
  io.out(`wrote ${unitPath}`);
  if (!systemctl(io, ['daemon-reload'])) return 1;
  io.out(nextSteps(flags.user, credential, io));
  return 0;
}

function nextSteps(user: string, credential: 'encrypted' | 'plain', io: ServiceIo): string {
  const path = credentialPath(credential);
  const store =
    credential === 'encrypted'
      ? `systemd-ask-password -n 'Wallet passphrase:' | systemd-creds encrypt --name=${WALLET_PASSPHRASE_CREDENTIAL} - ${path}`
      : `install -d -m 0700 /etc/credstore && systemd-ask-password -n 'Wallet passphrase:' > ${path} && chmod 0600 ${path}`;
  return `
next:
  1. the mining key (its recovery phrase is shown once, here, not in the journal):
       systemd-run --pty --wait --collect -p User=${user} -p StateDirectory=${SERVICE_NAME} \\
         ${io.nodePath} ${io.cliPath} wallet create --data-dir /var/lib/${SERVICE_NAME}
     (or 'wallet import'; see 'nya wallet --help')
  2. its passphrase, as a systemd credential:
       ${store}
  3. systemctl enable --now ${SERVICE_NAME}
     journalctl -u ${SERVICE_NAME} -f      # the dashboard: ssh -L 7420:127.0.0.1:7420 this-host`;
}

function uninstall(dryRun: boolean, unitPath: string, io: ServiceIo): number {
  const kept = `kept: /var/lib/${SERVICE_NAME} (mining key, settings, unsent results) and the user; remove them with 'userdel ${SERVICE_USER}' and 'rm -r /var/lib/${SERVICE_NAME}' once the key is backed up ('nya wallet export').`;
  if (dryRun) {
    io.out(
      `would run: systemctl disable --now ${SERVICE_NAME}.service\nwould remove: ${unitPath}\nwould run: systemctl daemon-reload\n${kept}`,
    );
    return 0;
  }
  // Not loaded (never enabled, or already removed) is fine: the goal is that it no longer runs.
  io.exec('systemctl', ['disable', '--now', `${SERVICE_NAME}.service`]);
  if (existsSync(unitPath)) {
    rmSync(unitPath);
    io.out(`removed ${unitPath}`);
  } else {
    io.out(`${unitPath} was not there`);
  }
  if (!systemctl(io, ['daemon-reload'])) return 1;
  io.out(kept);
  return 0;
}

function systemctl(io: ServiceIo, args: string[]): boolean {
  const r = io.exec('systemctl', args);
  if (r.status === 0) return true;
  io.err(`nya service: systemctl ${args.join(' ')} failed: ${r.stderr.trim() || `exit ${r.status}`}`);
  return false;
}

function processIo(): ServiceIo {
  return {
    out: (text) => console.log(text),
    err: (text) => console.error(text),
    exec: (file, args) => {
      const r = spawnSync(file, args, { encoding: 'utf8' });
      return { status: r.error ? null : r.status, stderr: r.error ? r.error.message : r.stderr };
    },
    isRoot: process.getuid?.() === 0,
    platform: process.platform,
    nodePath: process.execPath,
    // bin/nya.cjs as installed (npm links it), so an upgrade in place keeps the unit valid.
    cliPath: realpathSync(process.argv[1] ?? ''),
  };
}
