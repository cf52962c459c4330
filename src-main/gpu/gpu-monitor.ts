import type { GpuState } from '../../src-shared/state';
import { Emitter, type Event } from '../../src-node/event';
import { errorMessage, silentLogger, type Logger } from '../../src-node/log';
import { execFileRunner, firstLine, type CommandRunner } from './command-runner';
import { GPU_QUERY_ARGS, parseGpuQuery } from './nvidia-smi-parse';
import { controllersToTelemetry, systeminformationGraphics, type SystemGraphics } from './system-graphics';

export interface GpuMonitorOptions {
  run?: CommandRunner;
  systemGraphics?: SystemGraphics;
  nvidiaSmi?: string;
  intervalMs?: number;
  timeoutMs?: number;
  logger?: Logger;
}

const UNKNOWN: GpuState = { status: 'unknown', source: null, gpus: [] };

/**
 * Polls GPU telemetry: nvidia-smi first (every NVIDIA board, the figures the dashboard shows),
 * `systeminformation` for everything else, and "none" when neither finds a card — a real state,
 * the teacher then runs on the CPU. Listeners hear only changes.
 */
export class GpuMonitor {
  private readonly run: CommandRunner;
  private readonly systemGraphics: SystemGraphics;
  private readonly nvidiaSmi: string;
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private readonly log: Logger;
  private readonly changed = new Emitter<GpuState>();
  /** Hears only changes. */
  readonly onChange: Event<GpuState> = this.changed.event;
  private current: GpuState = UNKNOWN;
  private currentError: string | null = null;
  /** Once nvidia-smi is known to be absent we stop spawning it every poll. */
  private nvidiaSmiMissing = false;
  private timer: ReturnType<typeof setInterval> | null = null;
  private inFlight: Promise<GpuState> | null = null;
  private reportedProblems = new Set<string>();

  constructor(opts: GpuMonitorOptions = {}) {
    this.run = opts.run ?? execFileRunner;
    this.systemGraphics = opts.systemGraphics ?? systeminformationGraphics;
    this.nvidiaSmi = opts.nvidiaSmi ?? 'nvidia-smi';
    this.intervalMs = opts.intervalMs ?? 2000;
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.log = opts.logger ?? silentLogger;
  }

  get state(): GpuState {
    return this.current;
  }

  /** Why the state is 'error', in words; null otherwise. */
  get error(): string | null {
    return this.currentError;
  }

  start(): void {
    if (this.timer) return;
    void this.poll();
    this.timer = setInterval(() => void this.poll(), this.intervalMs);
    this.timer.unref?.();
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.changed.dispose();
  }

  /** One reading now; overlapping calls share the reading in flight. */
  poll(): Promise<GpuState> {
    this.inFlight ??= this.read()
      .then(({ state, error }) => {
        this.publish(state, error);
        return state;
      })
      .finally(() => {
        this.inFlight = null;
      });
    return this.inFlight;
  }

  private async read(): Promise<{ state: GpuState; error: string | null }> {
    if (!this.nvidiaSmiMissing) {
      const fromSmi = await this.readNvidiaSmi();
      if (fromSmi) return fromSmi;
    }
    return this.readSystemGraphics();
  }

  /** null: no NVIDIA answer, ask systeminformation. */
  private async readNvidiaSmi(): Promise<{ state: GpuState; error: string | null } | null> {
    const outcome = await this.run(this.nvidiaSmi, GPU_QUERY_ARGS, { timeoutMs: this.timeoutMs });
    if (outcome.kind === 'not-found') {
      this.nvidiaSmiMissing = true;
      this.log.info('nvidia-smi not found; reading GPUs through systeminformation');
      return null;
    }
    if (outcome.kind === 'failed') return failure(outcome.message);
    const output = `${outcome.stdout}\n${outcome.stderr}`;
    if (/no devices were found/i.test(output)) return null;
    if (outcome.exitCode !== 0) {
      return failure(`nvidia-smi failed: ${firstLine(output) || `exit code ${outcome.exitCode}`}`);
    }
    const { gpus, problems } = parseGpuQuery(outcome.stdout);
    for (const problem of problems) this.reportOnce(`nvidia-smi: ${problem}`);
    if (gpus.length > 0) return { state: { status: 'ok', source: 'nvidia-smi', gpus }, error: null };
    if (problems.length > 0) return failure(`nvidia-smi: ${problems[0]}`);
    return null;
  }

  private async readSystemGraphics(): Promise<{ state: GpuState; error: string | null }> {
    try {
      const { controllers } = await this.systemGraphics();
      const gpus = controllersToTelemetry(controllers);
      const status = gpus.length > 0 ? 'ok' : 'none';
      return { state: { status, source: 'systeminformation', gpus }, error: null };
    } catch (error) {
      return failure(`Could not list graphics adapters: ${errorMessage(error)}`, 'systeminformation');
    }
  }

  private publish(state: GpuState, error: string | null): void {
    if (error && error !== this.currentError) this.log.warn(error);
    this.currentError = error;
    if (JSON.stringify(state) === JSON.stringify(this.current)) return;
    this.current = state;
    this.changed.fire(state);
  }

  private reportOnce(message: string): void {
    if (this.reportedProblems.has(message)) return;
    this.reportedProblems.add(message);
    this.log.warn(message);
  }
}

function failure(message: string, source = 'nvidia-smi'): { state: GpuState; error: string } {
  return { state: { status: 'error', source, gpus: [] }, error: message };
}
