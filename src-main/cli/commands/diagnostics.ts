import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultDataDir } from '../../../src-node/data-dir';
import { errorMessage, type LogRecord } from '../../../src-node/log';
import { DEFAULT_SETTINGS, Settings } from '../../../src-shared/state';
import { diagnosticsFacts, diagnosticsReport } from '../../diagnostics';
import { RotatingFileLog } from '../../electron/file-log-sink';
import { GpuMonitor } from '../../gpu';
import { walletPassphrase } from '../wallet-passphrase';

const USAGE = `usage: nya diagnostics [--data-dir DIR] [--out FILE] [--log-lines N]

Prints what a bug report needs: versions, OS, GPUs, the execution provider the settings pick and
why, the settings, and the last log lines of the desktop app's log files in the data folder (a
'nya mine' service logs to the journal: journalctl -u nya-miner -n 200). Never key material or
passphrases. The data dir defaults to ${defaultDataDir()}.`;

const OPTIONS = {
  'data-dir': { type: 'string' },
  out: { type: 'string' },
  'log-lines': { type: 'string', default: '200' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export async function run(argv: string[]): Promise<number> {
  let flags;
  try {
    flags = parseArgs({ args: argv, options: OPTIONS, strict: true }).values;
  } catch (error) {
    console.error(`nya diagnostics: ${errorMessage(error)}\n\n${USAGE}`);
    return 2;
  }
  if (flags.help) {
    console.log(USAGE);
    return 0;
  }
  const logLines = Number(flags['log-lines']);
  if (!Number.isInteger(logLines) || logLines < 0 || logLines > 5000) {
    console.error(`nya diagnostics: --log-lines must be 0-5000, got '${flags['log-lines']}'`);
    return 2;
  }
  const dataDir = resolve(flags['data-dir'] ?? defaultDataDir());
  const settings = savedSettings(dataDir);
  const gpuMonitor = new GpuMonitor();
  const gpu = await gpuMonitor.poll();
  gpuMonitor.dispose();
  const passphrase = walletPassphrase();
  const report = diagnosticsReport(
    diagnosticsFacts({
      dataDir,
      gpu,
      teacher: null,
      settings,
      logs: logLines === 0 ? [] : recentLogLines(dataDir, logLines),
      secrets: passphrase ? [passphrase] : [],
    }),
  );
  if (flags.out) {
    writeFileSync(flags.out, report, { mode: 0o600 });
    console.error(`nya diagnostics: wrote ${resolve(flags.out)}`);
  } else {
    process.stdout.write(report);
  }
  return 0;
}

/** The saved settings, read without the settings store (which would set an unreadable file aside). */
function savedSettings(dataDir: string): Settings | null {
  const path = join(dataDir, 'settings.json');
  if (!existsSync(path)) return DEFAULT_SETTINGS;
  try {
    return { ...DEFAULT_SETTINGS, ...Settings.partial().parse(JSON.parse(readFileSync(path, 'utf8'))) };
  } catch {
    return null;
  }
}

function recentLogLines(dataDir: string, count: number): LogRecord[] {
  const dir = join(dataDir, 'logs');
  return existsSync(dir) ? new RotatingFileLog({ dir }).recent(count) : [];
}
