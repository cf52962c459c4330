import type { LogRecord } from '../../src-node/log';
import type { GpuState, Settings, StateSnapshot } from '../../src-shared/state';

/**
 * A bug report's facts as plain text: versions, OS, GPUs, which execution provider the teacher
 * runs on and why, the settings, the last log lines. Nothing secret goes in: no key material
 * (the wallet folder is never read), no environment, the passphrase scrubbed from every line if it
 * was ever logged, and credentials or query strings cut out of URLs.
 */
export interface DiagnosticsFacts {
  generatedAtMs: number;
  versions: Record<string, string | null>;
  os: Record<string, string>;
  dataDir: string;
  gpu: GpuState | null;
  /** The live teacher's state (the app, a running miner); null from the CLI. */
  teacher: StateSnapshot['teacher'] | null;
  /** What the provider choice means on this machine, before any model is loaded. */
  providerPlan: string;
  settings: Settings | null;
  logs: LogRecord[];
  /** Values that must not appear (the wallet passphrase): replaced wherever they occur. */
  secrets: string[];
}

export function diagnosticsReport(f: DiagnosticsFacts): string {
  const lines = [
    `Nya Miner diagnostics, ${new Date(f.generatedAtMs).toISOString()}`,
    '',
    '## Versions',
    ...Object.entries(f.versions).map(([name, version]) => `${name}: ${version ?? 'not found'}`),
    '',
    '## System',
    ...Object.entries(f.os).map(([name, value]) => `${name}: ${value}`),
    `data folder: ${f.dataDir}`,
    '',
    '## GPU',
    ...gpuLines(f.gpu),
    '',
    '## Execution provider',
    `plan: ${f.providerPlan}`,
    ...(f.teacher
      ? [
          `teacher: ${f.teacher.state}${f.teacher.modelName ? `, ${f.teacher.modelName}` : ''}${f.teacher.isDemo ? ' (demo model)' : ''}`,
          `running on: ${f.teacher.executionProvider ?? 'not yet'}`,
          `why: ${f.teacher.providerReason ?? '-'}`,
          ...(f.teacher.error ? [`error: ${f.teacher.error}`] : []),
        ]
      : ['running on: (no miner running here; the last "teacher on ..." log line below says what it chose)']),
    '',
    '## Settings',
    ...(f.settings ? Object.entries(f.settings).map(([key, value]) => `${key}: ${settingText(value)}`) : ['(none saved)']),
    '',
    `## Last ${f.logs.length} log lines`,
    ...f.logs.map((r) => `${new Date(r.atMs).toISOString()} ${r.level.padEnd(5)} [${r.source}] ${r.message}`),
    '',
  ];
  return scrub(lines.join('\n'), f.secrets);
}

function gpuLines(gpu: GpuState | null): string[] {
  if (!gpu) return ['(not read)'];
  if (gpu.gpus.length === 0) return [`${gpu.status}${gpu.source ? ` (${gpu.source})` : ''}: no GPU found`];
  return gpu.gpus.map(
    (g) =>
      `#${g.index} ${g.name}, driver ${g.driver ?? '?'}, ${g.memoryTotalMiB ?? '?'} MiB, ${g.tempC ?? '?'} °C, ` +
      `${g.powerW ?? '?'}/${g.powerLimitW ?? '?'} W (${gpu.source ?? 'unknown source'})`,
  );
}

function settingText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** `https://user:pass@host/path?token=...` → `https://[redacted]@host/path?[redacted]`. */
function withoutUrlSecrets(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)([^\s/@]+@)?([^\s?#]*)(\?[^\s#]*)?/gi, (_m, scheme: string, auth, rest: string, query) => {
    return `${scheme}${auth ? '[redacted]@' : ''}${rest}${query ? '?[redacted]' : ''}`;
  });
}

function scrub(text: string, secrets: string[]): string {
  let out = withoutUrlSecrets(text);
  for (const secret of secrets) if (secret.length > 0) out = out.replaceAll(secret, '[redacted]');
  // A 32-byte secret in the form polkadot-js prints seeds: never useful in a report.
  return out.replace(/0x[0-9a-f]{64}\b/gi, '0x[redacted]');
}
