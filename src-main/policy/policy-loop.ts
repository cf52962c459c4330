import type { MinerStatus, Settings, StateSnapshot } from '../../src-shared/state';
import { decide, type PolicyDecision } from './mining-policy';
import { DEFAULT_MINING_POLICY, type MiningPolicyConfig } from './mining-policy-config';
import type { GameSignal, OtherGpuProcess } from './signals';
import { localTimeOf } from './weekly-schedule';
import { errorMessage, type Logger } from '../../src-node/log';

/**
 * Feeds the pure mining policy (`decide`) from the desktop's signals and applies its answer as
 * the miner's hold. Cheap signals (idle time, battery) are read on every tick; slow ones (game
 * detectors, `nvidia-smi`) refresh in the background at their own pace, and a tick uses the
 * latest value, so one slow probe never delays a pause. GPU temperature and power come from the
 * telemetry already in the state snapshot.
 *
 * The user's own pause is not fed in: the miner owns it (it persists and shows it), and the hold
 * set here must describe only the machine, so resuming by hand still respects a running game.
 */
export interface PolicySignals {
  /** Seconds since the last input (`powerMonitor.getSystemIdleTime()`); null when unknown. */
  idleSeconds(): number | null;
  onBattery(): boolean | null;
  /**
   * The slow probes (game detectors, nvidia-smi), e.g. `GameDetector.detect`. Absent: nothing
   * seen. `otherGpuProcesses: null` (cannot tell) counts as nobody.
   */
  detect?: () => Promise<{ games: readonly GameSignal[]; otherGpuProcesses: readonly OtherGpuProcess[] | null }>;
}

export interface PolicyLoopOptions {
  signals: PolicySignals;
  state: { get(): StateSnapshot };
  miner: { setHold(hold: { reason: string; status: MinerStatus } | null): void };
  config: () => MiningPolicyConfig;
  log: Logger;
  now?: () => number;
  tickMs?: number;
  slowSignalMs?: number;
}

/**
 * The desktop policy for the user's settings: their °C and W limits are the hard stops (the
 * governor in the miner loop aims below them). With no temperature limit set, the policy's
 * default stays as a safety stop, below where cards throttle; power has no default limit.
 */
export function desktopPolicyConfig(settings: Settings, base: MiningPolicyConfig = DEFAULT_MINING_POLICY): MiningPolicyConfig {
  return { ...base, maxTempC: settings.maxGpuTempC ?? base.maxTempC, maxPowerW: settings.maxGpuPowerW };
}

export class PolicyLoop {
  private prev: PolicyDecision | null = null;
  private games: readonly GameSignal[] = [];
  private others: readonly OtherGpuProcess[] = [];
  private slowAtMs = -Infinity;
  private slowInFlight: Promise<void> | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly now: () => number;

  constructor(private readonly o: PolicyLoopOptions) {
    this.now = o.now ?? Date.now;
  }

  start(): void {
    if (this.timer) return;
    this.tick();
    this.timer = setInterval(() => this.tick(), this.o.tickMs ?? 2000);
    this.timer.unref?.();
  }

  async dispose(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.slowInFlight;
  }

  /** One decision, applied; also called at once on power events (battery, resume from sleep). */
  tick(): PolicyDecision {
    const nowMs = this.now();
    this.refreshSlowSignals(nowMs);
    const snapshot = this.o.state.get();
    // The limits are about the card the teacher runs on.
    const gpus = snapshot.gpu.gpus;
    const gpu = gpus.find((g) => g.index === snapshot.settings.gpuDeviceId) ?? gpus[0];
    const decision = decide(
      {
        userPaused: false,
        pausedUntilMs: null,
        idleSeconds: this.o.signals.idleSeconds(),
        games: this.games,
        onBattery: this.o.signals.onBattery(),
        otherGpuProcesses: this.others,
        gpuTempC: gpu?.tempC ?? null,
        gpuPowerW: gpu?.powerW ?? null,
        localTime: localTimeOf(nowMs),
      },
      this.prev,
      this.o.config(),
      nowMs,
    );
    if (decision.status !== this.prev?.status) {
      this.o.log.info(`policy: ${decision.decision} (${decision.reason})`);
    }
    this.prev = decision;
    this.o.miner.setHold(decision.decision === 'mine' ? null : { reason: decision.reason, status: decision.status });
    return decision;
  }

  /** Wait for the background probes a tick started (tests, shutdown). */
  settled(): Promise<void> {
    return this.slowInFlight ?? Promise.resolve();
  }

  private refreshSlowSignals(nowMs: number): void {
    if (this.slowInFlight || nowMs - this.slowAtMs < (this.o.slowSignalMs ?? 5000)) return;
    this.slowAtMs = nowMs;
    const detect = this.o.signals.detect;
    if (!detect) return;
    this.slowInFlight = detect()
      .then((seen) => {
        this.games = seen.games;
        this.others = seen.otherGpuProcesses ?? [];
      })
      .catch((error) => this.o.log.warn(`policy signal failed: ${errorMessage(error)}`))
      .finally(() => (this.slowInFlight = null));
  }
}
