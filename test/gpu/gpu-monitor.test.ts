import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { GpuState } from '../../src-shared/state';
import {
  GpuMonitor,
  execFileRunner,
  queryOtherGpuProcesses,
  type CommandOutcome,
  type CommandRunner,
  type GraphicsController,
} from '../../src-main/gpu';
import { LogHub } from '../../src-node/log';

const fixture = (name: string) => readFileSync(join(__dirname, '../fixtures/nvidia-smi', name), 'utf8');

const exited = (stdout: string, exitCode = 0): CommandOutcome => ({
  kind: 'exited',
  exitCode,
  stdout,
  stderr: '',
});

/** Replays one outcome per call (the last one repeats) and records what was run. */
function replay(...outcomes: CommandOutcome[]) {
  const calls: { file: string; args: readonly string[] }[] = [];
  const run: CommandRunner = async (file, args) => {
    calls.push({ file, args });
    return outcomes[Math.min(calls.length - 1, outcomes.length - 1)]!;
  };
  return { run, calls };
}

function recordingLogger() {
  const lines: string[] = [];
  const hub = new LogHub();
  hub.attach((record) => lines.push(`${record.level} ${record.message}`));
  return { logger: hub.logger('test'), lines };
}

const radeon: GraphicsController = {
  vendor: 'Advanced Micro Devices, Inc. [AMD/ATI]',
  model: 'AMD Radeon RX 7900 XTX',
  vram: 24560,
  driverVersion: '24.3.1',
  temperatureGpu: 48,
};

const noGraphics = async () => ({ controllers: [] });

afterEach(() => {
  vi.useRealTimers();
});

describe('GpuMonitor', () => {
  it('reports NVIDIA GPUs from nvidia-smi', async () => {
    const { run, calls } = replay(exited(fixture('2x-rtx3090-driver550.csv')));
    const monitor = new GpuMonitor({ run, systemGraphics: noGraphics });
    const state = await monitor.poll();
    expect(state.status).toBe('ok');
    expect(state.source).toBe('nvidia-smi');
    expect(state.gpus.map((gpu) => gpu.name)).toEqual(['NVIDIA GeForce RTX 3090', 'NVIDIA GeForce RTX 3090']);
    expect(calls[0]?.args[0]).toMatch(/^--query-gpu=index,name,driver_version,/);
    expect(monitor.error).toBeNull();
  });

  it('falls back to systeminformation when nvidia-smi is not installed, and stops spawning it', async () => {
    const { run, calls } = replay({ kind: 'not-found', file: 'nvidia-smi' });
    const monitor = new GpuMonitor({ run, systemGraphics: async () => ({ controllers: [radeon] }) });
    const first = await monitor.poll();
    await monitor.poll();
    expect(first).toMatchObject({ status: 'ok', source: 'systeminformation' });
    expect(first.gpus[0]).toMatchObject({ name: 'AMD Radeon RX 7900 XTX', memoryTotalMiB: 24560, tempC: 48 });
    expect(calls).toHaveLength(1);
  });

  it('is "none" when no adapter can run the teacher', async () => {
    const { run } = replay(exited(fixture('no-devices.txt'), 6));
    const virtualOnly: GraphicsController[] = [
      { vendor: 'VMware', model: 'SVGA II Adapter', vram: 8 },
      { vendor: 'Microsoft', model: 'Microsoft Basic Render Driver', vram: 0 },
      { vendor: 'ASPEED Technology, Inc.', model: 'ASPEED Graphics Family', vram: 64 },
    ];
    const monitor = new GpuMonitor({ run, systemGraphics: async () => ({ controllers: virtualOnly }) });
    expect(await monitor.poll()).toEqual({ status: 'none', source: 'systeminformation', gpus: [] });
  });

  it('is "error" with the driver\'s words when nvidia-smi fails', async () => {
    const { run } = replay(exited(fixture('driver-not-loaded.txt'), 9));
    const { logger, lines } = recordingLogger();
    const monitor = new GpuMonitor({ run, systemGraphics: noGraphics, logger });
    const state = await monitor.poll();
    await monitor.poll();
    expect(state).toEqual({ status: 'error', source: 'nvidia-smi', gpus: [] });
    expect(monitor.error).toMatch(/^nvidia-smi failed: NVIDIA-SMI has failed because it couldn't communicate/);
    expect(lines.filter((line) => line.startsWith('warn'))).toHaveLength(1);
  });

  it('is "error" when nvidia-smi hangs', async () => {
    const { run } = replay({ kind: 'failed', message: 'nvidia-smi did not answer within 5000 ms' });
    const monitor = new GpuMonitor({ run, systemGraphics: noGraphics });
    expect((await monitor.poll()).status).toBe('error');
    expect(monitor.error).toBe('nvidia-smi did not answer within 5000 ms');
  });

  it('is "error" when systeminformation throws', async () => {
    const { run } = replay({ kind: 'not-found', file: 'nvidia-smi' });
    const monitor = new GpuMonitor({
      run,
      systemGraphics: async () => {
        throw new Error('lspci: command not found');
      },
    });
    expect(await monitor.poll()).toEqual({ status: 'error', source: 'systeminformation', gpus: [] });
    expect(monitor.error).toBe('Could not list graphics adapters: lspci: command not found');
  });

  it('tells listeners about changes only', async () => {
    const { run } = replay(
      exited(fixture('rtx4090-driver550.csv')),
      exited(fixture('rtx4090-driver550.csv')),
      exited(fixture('rtx4090-driver560-header-units.csv')),
    );
    const monitor = new GpuMonitor({ run, systemGraphics: noGraphics });
    const seen: GpuState[] = [];
    monitor.onChange((state) => seen.push(state));
    await monitor.poll();
    await monitor.poll();
    await monitor.poll();
    expect(seen.map((state) => state.gpus[0]?.utilizationPct)).toEqual([97, 3]);
  });

  it('polls on its interval after start() and stops on dispose()', async () => {
    vi.useFakeTimers();
    const { run, calls } = replay(exited(fixture('rtx4090-driver550.csv')));
    const monitor = new GpuMonitor({ run, systemGraphics: noGraphics, intervalMs: 1000 });
    monitor.start();
    await vi.advanceTimersByTimeAsync(3500);
    expect(calls).toHaveLength(4);
    expect(monitor.state.status).toBe('ok');
    monitor.dispose();
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls).toHaveLength(4);
  });

  it('shares one reading between overlapping polls', async () => {
    const { run, calls } = replay(exited(fixture('rtx4090-driver550.csv')));
    const monitor = new GpuMonitor({ run, systemGraphics: noGraphics });
    const [a, b] = await Promise.all([monitor.poll(), monitor.poll()]);
    expect(a).toBe(b);
    expect(calls).toHaveLength(1);
  });
});

describe('queryOtherGpuProcesses', () => {
  it('leaves out our own worker', async () => {
    const { run } = replay(exited(fixture('compute-apps-linux.csv')));
    const others = await queryOtherGpuProcesses(run, { excludePids: [48213] });
    expect(others?.map((p) => p.name)).toEqual(['/usr/lib/blender/blender']);
  });

  it('is null, not "nobody", when nvidia-smi cannot answer', async () => {
    expect(await queryOtherGpuProcesses(replay({ kind: 'not-found', file: 'nvidia-smi' }).run)).toBeNull();
    expect(await queryOtherGpuProcesses(replay(exited(fixture('driver-not-loaded.txt'), 9)).run)).toBeNull();
  });
});

describe('execFileRunner', () => {
  it('returns output and exit code of a real process', async () => {
    const outcome = await execFileRunner(process.execPath, ['-e', 'process.stdout.write("a, b"); process.exit(3)'], { timeoutMs: 10_000 });
    expect(outcome).toEqual({ kind: 'exited', exitCode: 3, stdout: 'a, b', stderr: '' });
  });

  it('says not-found for a missing program', async () => {
    const outcome = await execFileRunner('nya-no-such-tool', [], { timeoutMs: 1000 });
    expect(outcome).toEqual({ kind: 'not-found', file: 'nya-no-such-tool' });
  });

  it('says failed when the program outlives its timeout', async () => {
    const outcome = await execFileRunner(process.execPath, ['-e', 'setTimeout(() => {}, 10000)'], {
      timeoutMs: 300,
    });
    expect(outcome.kind).toBe('failed');
  });
});
