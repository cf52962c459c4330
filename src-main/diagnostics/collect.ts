import { chmodSync, mkdirSync } from 'node:fs';
import { cpus, arch, release, totalmem, type as osType } from 'node:os';
import { join } from 'node:path';
import { appVersion, packageVersion } from '../../src-node/app-version';
import { writeFileAtomicSync } from '../../src-node/atomic-write';
import type { ExecutionProviderChoice } from '../../src-shared/state';
import { planProviders, providerLabel } from '../teacher/execution-provider';
import type { DiagnosticsFacts } from './diagnostics-report';

/** The versions a bug report needs; Electron's and Chromium's only inside the app. */
function runtimeVersions(): Record<string, string | null> {
  return {
    'nya-miner': appVersion(),
    node: process.versions.node,
    ...(process.versions.electron ? { electron: process.versions.electron, chromium: process.versions.chrome ?? null } : {}),
    v8: process.versions.v8,
    'onnxruntime-node': packageVersion('onnxruntime-node'),
  };
}

function systemFacts(): Record<string, string> {
  const cpuList = cpus();
  return {
    os: `${osType()} ${release()} (${process.platform}-${arch()})`,
    cpu: `${cpuList[0]?.model.trim() ?? 'unknown'} × ${cpuList.length}`,
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
  };
}

/** What `choice` means here: the providers tried in order, and why any was ruled out. */
function providerPlanText(choice: ExecutionProviderChoice): string {
  const plan = planProviders(choice, process.platform, process.arch);
  const order = plan.candidates.map(providerLabel).join(', then ');
  return `${choice} on ${process.platform}-${process.arch}: tries ${order}${plan.ruledOut ? ` (${plan.ruledOut})` : ''}`;
}

/** The facts only this process knows, joined with the ones any process can read. */
export function diagnosticsFacts(
  parts: Pick<DiagnosticsFacts, 'dataDir' | 'gpu' | 'teacher' | 'settings' | 'logs' | 'secrets'>,
  nowMs: number = Date.now(),
): DiagnosticsFacts {
  return {
    ...parts,
    generatedAtMs: nowMs,
    versions: runtimeVersions(),
    os: systemFacts(),
    providerPlan: providerPlanText(parts.settings?.executionProvider ?? 'auto'),
  };
}

/**
 * Writes a report into `<data>/diagnostics/`, readable by the user only (it names folders and
 * addresses), and returns its path: what the Settings page's "Export diagnostics" shows.
 */
export function writeDiagnosticsFile(dataDir: string, report: string, nowMs: number = Date.now()): string {
  const dir = join(dataDir, 'diagnostics');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(
    dir,
    `nya-diagnostics-${new Date(nowMs)
      .toISOString()
      .replaceAll(':', '-')
      .replace(/\.\d+Z$/, 'Z')}.txt`,
  );
  writeFileAtomicSync(path, report);
  chmodSync(path, 0o600);
  return path;
}
