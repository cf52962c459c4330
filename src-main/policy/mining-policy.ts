import type { MinerStatus } from '../../src-shared/state';
import { plural } from '../../src-shared/plural';
import type { MiningPolicyConfig } from './mining-policy-config';
import type { GameSignal, OtherGpuProcess } from './signals';
import { checkSchedule, formatLocalTime, type LocalTime } from './weekly-schedule';

/**
 * Mine or pause — a pure function of the signals, the previous decision, the user's settings and
 * the time, so every transition is a table row in a test. The I/O (idle time, battery, detectors,
 * telemetry) is gathered by the caller.
 *
 * Pausing is immediate: whatever blocks mining preempts the batch in flight. Resuming is what
 * hysteresis guards: idle must last `resumeAfterIdleMin`, the GPU must cool below the limit minus
 * `tempHysteresisC`, and after a signal that can flicker (a game, battery, another GPU program, a
 * limit) the way must stay clear for `resumeDelayS`, so a signal toggling every poll yields one
 * pause, not a pause per toggle.
 */
export interface PolicyInputs {
  userPaused: boolean;
  /** "Pause for 1 hour": paused until then, then back to normal. */
  pausedUntilMs: number | null;
  /** Seconds since the last keyboard or mouse input; null where no idle source exists (headless). */
  idleSeconds: number | null;
  games: readonly GameSignal[];
  /** null: unknown (a desktop without a battery reports false). */
  onBattery: boolean | null;
  otherGpuProcesses: readonly OtherGpuProcess[];
  gpuTempC: number | null;
  gpuPowerW: number | null;
  localTime: LocalTime;
}

export type BlockerKind = 'user' | 'battery' | 'game' | 'other-gpu-process' | 'temperature' | 'power' | 'schedule' | 'idle';

export interface Blocker {
  kind: BlockerKind;
  /** The sentence the UI shows when this is the reason. */
  reason: string;
}

export type PolicyStatus = Extract<MinerStatus, 'mining' | 'paused' | 'waiting-for-idle'>;

export interface PolicyDecision {
  decision: 'mine' | 'pause';
  status: PolicyStatus;
  reason: string;
  /** When `status` last changed. */
  since: number;
  /** Everything blocking now, most important first; the first one is the reason. */
  blockers: Blocker[];
  /** Mining may not resume before this (set while a flickering signal blocks). */
  holdUntilMs: number | null;
  /** The flickering signal that set the hold, for the "Resuming in …" sentence. */
  heldBy: BlockerKind | null;
}

/** Signals that can flicker, so a resume after them waits `resumeDelayS`. */
const HELD_KINDS: ReadonlySet<BlockerKind> = new Set(['battery', 'game', 'other-gpu-process', 'temperature', 'power']);

export function decide(inputs: PolicyInputs, prev: PolicyDecision | null, config: MiningPolicyConfig, nowMs: number): PolicyDecision {
  const blockers = findBlockers(inputs, prev, config, nowMs);
  const heldNow = blockers.find((blocker) => HELD_KINDS.has(blocker.kind));
  const holdUntilMs = heldNow ? nowMs + config.resumeDelayS * 1000 : (prev?.holdUntilMs ?? null);
  const heldBy = heldNow?.kind ?? prev?.heldBy ?? null;
  const top = blockers[0];
  let outcome: Pick<PolicyDecision, 'decision' | 'status' | 'reason'>;
  if (top) {
    outcome = { decision: 'pause', status: top.kind === 'idle' ? 'waiting-for-idle' : 'paused', reason: top.reason };
  } else if (holdUntilMs !== null && nowMs < holdUntilMs) {
    outcome = { decision: 'pause', status: 'paused', reason: resumingReason(holdUntilMs - nowMs, heldBy) };
  } else {
    outcome = { decision: 'mine', status: 'mining', reason: 'Mining' };
  }
  const stillHolding = outcome.decision === 'pause' && holdUntilMs !== null;
  return {
    ...outcome,
    since: prev && prev.status === outcome.status ? prev.since : nowMs,
    blockers,
    holdUntilMs: stillHolding ? holdUntilMs : null,
    heldBy: stillHolding ? heldBy : null,
  };
}

function findBlockers(inputs: PolicyInputs, prev: PolicyDecision | null, config: MiningPolicyConfig, nowMs: number): Blocker[] {
  const wasBlockedBy = (kind: BlockerKind) => prev?.blockers.some((b) => b.kind === kind) ?? false;
  return [
    userBlocker(inputs, nowMs),
    config.pauseOnBattery && inputs.onBattery === true ? { kind: 'battery' as const, reason: 'Paused: running on battery' } : null,
    config.pauseOnGames ? gameBlocker(inputs.games) : null,
    config.pauseOnOtherGpuProcesses ? otherProcessBlocker(inputs.otherGpuProcesses) : null,
    temperatureBlocker(inputs.gpuTempC, config, wasBlockedBy('temperature')),
    powerBlocker(inputs.gpuPowerW, config, wasBlockedBy('power')),
    config.schedule ? scheduleBlocker(config.schedule, inputs.localTime) : null,
    config.onlyWhenIdle ? idleBlocker(inputs.idleSeconds, config.resumeAfterIdleMin) : null,
  ].filter((blocker): blocker is Blocker => blocker !== null);
}

function userBlocker(inputs: PolicyInputs, nowMs: number): Blocker | null {
  if (inputs.userPaused) return { kind: 'user', reason: 'Paused by you' };
  if (inputs.pausedUntilMs === null || nowMs >= inputs.pausedUntilMs) return null;
  const minutes = Math.ceil((inputs.pausedUntilMs - nowMs) / 60_000);
  return { kind: 'user', reason: `Paused by you for ${plural(minutes, 'more minute')}` };
}

function gameBlocker(games: readonly GameSignal[]): Blocker | null {
  // A named Steam game says the most; fall back to whatever else was seen.
  const game = games.find((g) => g.kind === 'steam-game') ?? games.find((g) => g.name) ?? games[0];
  if (!game) return null;
  const named = (text: string) => (game.name ? `${text} (${game.name})` : text);
  const reason = {
    'steam-game': named('Paused: Steam game running'),
    'd3d-fullscreen': named('Paused: a full-screen Direct3D game is running'),
    fullscreen: named('Paused: a full-screen app is running'),
    presentation: 'Paused: presentation mode is on',
  }[game.kind];
  return { kind: 'game', reason };
}

function otherProcessBlocker(processes: readonly OtherGpuProcess[]): Blocker | null {
  const first = processes[0];
  if (!first) return null;
  const more = processes.length > 1 ? ` and ${plural(processes.length - 1, 'other')}` : '';
  return {
    kind: 'other-gpu-process',
    reason: `Paused: another program is using the GPU (${baseName(first.name)}${more})`,
  };
}

/** Over the limit: blocked. Between limit − hysteresis and the limit: blocked only if it was. */
function temperatureBlocker(tempC: number | null, config: MiningPolicyConfig, latched: boolean): Blocker | null {
  const limit = config.maxTempC;
  if (limit === null || tempC === null) return null;
  const resumeBelow = limit - config.tempHysteresisC;
  if (tempC >= limit) {
    return { kind: 'temperature', reason: `Paused: GPU at ${round(tempC)} °C, at or above your ${limit} °C limit` };
  }
  if (latched && tempC >= resumeBelow) {
    return { kind: 'temperature', reason: `Paused: GPU cooling down (${round(tempC)} °C, resuming below ${resumeBelow} °C)` };
  }
  return null;
}

function powerBlocker(powerW: number | null, config: MiningPolicyConfig, latched: boolean): Blocker | null {
  const limit = config.maxPowerW;
  if (limit === null || powerW === null) return null;
  const resumeBelow = limit - config.powerHysteresisW;
  if (powerW >= limit || (latched && powerW >= resumeBelow)) {
    return { kind: 'power', reason: `Paused: GPU drawing ${round(powerW)} W, over your ${limit} W limit` };
  }
  return null;
}

function scheduleBlocker(schedule: NonNullable<MiningPolicyConfig['schedule']>, at: LocalTime): Blocker | null {
  const verdict = checkSchedule(schedule, at);
  if (verdict.allowed) return null;
  const reason = verdict.next
    ? `Paused: outside your mining schedule (next window ${formatLocalTime(verdict.next)})`
    : 'Paused: your mining schedule has no hours set';
  return { kind: 'schedule', reason };
}

/** Unknown idle time (no idle source) cannot hold mining back. */
function idleBlocker(idleSeconds: number | null, resumeAfterIdleMin: number): Blocker | null {
  if (idleSeconds === null || idleSeconds >= resumeAfterIdleMin * 60) return null;
  const idleMin = Math.floor(idleSeconds / 60);
  return {
    kind: 'idle',
    reason: `Waiting for the PC to be idle (${idleMin} of ${plural(resumeAfterIdleMin, 'minute')})`,
  };
}

const CLEARED: Record<BlockerKind, string> = {
  user: 'you resumed',
  battery: 'back on mains power',
  game: 'the game has closed',
  'other-gpu-process': 'the other program has left the GPU',
  temperature: 'the GPU has cooled down',
  power: 'power draw is back under the limit',
  schedule: 'the schedule allows mining',
  idle: 'the PC is idle',
};

function resumingReason(remainingMs: number, heldBy: BlockerKind | null): string {
  const seconds = Math.ceil(remainingMs / 1000);
  return `Resuming in ${plural(seconds, 'second')}${heldBy ? `: ${CLEARED[heldBy]}` : ''}`;
}

function round(value: number): number {
  return Math.round(value);
}

/** "C:\\Games\\cs2.exe" and "/usr/bin/blender" → the program's file name. */
function baseName(path: string): string {
  return path.split(/[\\/]/).pop() || path;
}
