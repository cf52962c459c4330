import { execFile } from 'node:child_process';

/**
 * The one way services run an external tool (nvidia-smi, reg, xprop, powershell). A port so tests
 * replay recorded outputs instead of needing a GPU, Windows or an X server.
 *
 * The outcome is a value, never a throw: "the tool is not installed" is a normal answer on most
 * machines (no NVIDIA driver, no X server) and callers branch on it.
 */
export type CommandOutcome =
  | { kind: 'exited'; exitCode: number; stdout: string; stderr: string }
  | { kind: 'not-found'; file: string }
  | { kind: 'failed'; message: string };

export type CommandRunner = (file: string, args: readonly string[], opts: { timeoutMs: number }) => Promise<CommandOutcome>;

const MAX_OUTPUT_BYTES = 4 * 1024 * 1024;

/** The real runner: `execFile` (no shell, so arguments are never re-parsed), hidden on Windows. */
export const execFileRunner: CommandRunner = (file, args, { timeoutMs }) =>
  new Promise((resolve) => {
    execFile(
      file,
      [...args],
      { timeout: timeoutMs, windowsHide: true, maxBuffer: MAX_OUTPUT_BYTES, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (!error) return resolve({ kind: 'exited', exitCode: 0, stdout, stderr });
        const failure = error as NodeJS.ErrnoException & { killed?: boolean; signal?: string | null };
        if (failure.code === 'ENOENT') return resolve({ kind: 'not-found', file });
        if (typeof failure.code === 'number') {
          return resolve({ kind: 'exited', exitCode: failure.code, stdout, stderr });
        }
        if (failure.killed) {
          return resolve({ kind: 'failed', message: `${file} did not answer within ${timeoutMs} ms` });
        }
        resolve({ kind: 'failed', message: `${file} failed: ${failure.message}` });
      },
    );
  });

/** The first meaningful line of a tool's complaint, for a log line or an error state. */
export function firstLine(text: string): string {
  return (
    text
      .split(/\r?\n/)
      .map((line) => line.trim())
      .find((line) => line.length > 0) ?? ''
  );
}
