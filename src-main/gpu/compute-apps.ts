import type { CommandRunner } from './command-runner';
import { COMPUTE_APPS_ARGS, parseComputeApps, type GpuProcess } from './nvidia-smi-parse';

/**
 * Other programs holding a CUDA context: a render, a training run, a game's compute work. Our own
 * teacher worker shows up here too, so its pids are left out. `null` means "cannot tell" (no
 * nvidia-smi, driver trouble), which a caller must not mistake for "nobody".
 */
export async function queryOtherGpuProcesses(
  run: CommandRunner,
  opts: { nvidiaSmi?: string; excludePids?: Iterable<number>; timeoutMs?: number } = {},
): Promise<GpuProcess[] | null> {
  const outcome = await run(opts.nvidiaSmi ?? 'nvidia-smi', COMPUTE_APPS_ARGS, {
    timeoutMs: opts.timeoutMs ?? 5000,
  });
  if (outcome.kind !== 'exited' || outcome.exitCode !== 0) return null;
  const ours = new Set(opts.excludePids ?? []);
  return parseComputeApps(outcome.stdout).filter((process) => !ours.has(process.pid));
}
