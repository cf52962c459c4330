import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MINING_POLICY,
  decide,
  parseMiningPolicyConfig,
  type MiningPolicyConfig,
  type PolicyDecision,
  type PolicyInputs,
} from '../../src-main/policy';

const MONDAY_NOON = { weekday: 1, minuteOfDay: 12 * 60 };

const calm: PolicyInputs = {
  userPaused: false,
  pausedUntilMs: null,
  idleSeconds: 600,
  games: [],
  onBattery: false,
  otherGpuProcesses: [],
  gpuTempC: 60,
  gpuPowerW: 200,
  localTime: MONDAY_NOON,
};

const config: MiningPolicyConfig = { ...DEFAULT_MINING_POLICY, maxPowerW: 300 };
const T0 = 1_700_000_000_000;

describe('decide: each signal on its own', () => {
  const cases: {
    name: string;
    inputs: Partial<PolicyInputs>;
    config?: Partial<MiningPolicyConfig>;
    status: PolicyDecision['status'];
    reason: string;
  }[] = [
    { name: 'nothing in the way', inputs: {}, status: 'mining', reason: 'Mining' },
    { name: 'user pause', inputs: { userPaused: true }, status: 'paused', reason: 'Paused by you' },
    {
      name: 'pause for an hour',
      inputs: { pausedUntilMs: T0 + 42 * 60_000 - 5_000 },
      status: 'paused',
      reason: 'Paused by you for 42 more minutes',
    },
    { name: 'pause for an hour, expired', inputs: { pausedUntilMs: T0 - 1 }, status: 'mining', reason: 'Mining' },
    { name: 'battery', inputs: { onBattery: true }, status: 'paused', reason: 'Paused: running on battery' },
    {
      name: 'battery ignored when the user allows it',
      inputs: { onBattery: true },
      config: { pauseOnBattery: false },
      status: 'mining',
      reason: 'Mining',
    },
    { name: 'battery unknown', inputs: { onBattery: null }, status: 'mining', reason: 'Mining' },
    {
      name: 'Steam game',
      inputs: { games: [{ kind: 'steam-game', source: 'steam-registry', name: 'Counter-Strike 2' }] },
      status: 'paused',
      reason: 'Paused: Steam game running (Counter-Strike 2)',
    },
    {
      name: 'Steam game named over a full-screen window',
      inputs: {
        games: [
          { kind: 'fullscreen', source: 'x11-fullscreen', name: 'cs2' },
          { kind: 'steam-game', source: 'steam-registry', name: 'Counter-Strike 2' },
        ],
      },
      status: 'paused',
      reason: 'Paused: Steam game running (Counter-Strike 2)',
    },
    {
      name: 'exclusive Direct3D',
      inputs: { games: [{ kind: 'd3d-fullscreen', source: 'windows-notification-state', name: null }] },
      status: 'paused',
      reason: 'Paused: a full-screen Direct3D game is running',
    },
    {
      name: 'full-screen window',
      inputs: { games: [{ kind: 'fullscreen', source: 'x11-fullscreen', name: 'mpv' }] },
      status: 'paused',
      reason: 'Paused: a full-screen app is running (mpv)',
    },
    {
      name: 'presentation mode',
      inputs: { games: [{ kind: 'presentation', source: 'windows-notification-state', name: null }] },
      status: 'paused',
      reason: 'Paused: presentation mode is on',
    },
    {
      name: 'games ignored when the user allows them',
      inputs: { games: [{ kind: 'steam-game', source: 'steam-registry', name: 'Dota 2' }] },
      config: { pauseOnGames: false },
      status: 'mining',
      reason: 'Mining',
    },
    {
      name: 'other GPU programs',
      inputs: {
        otherGpuProcesses: [
          { pid: 1, name: 'C:\\Program Files\\Blender Foundation\\Blender 4.1\\blender.exe' },
          { pid: 2, name: '/usr/bin/python3' },
        ],
      },
      status: 'paused',
      reason: 'Paused: another program is using the GPU (blender.exe and 1 other)',
    },
    {
      name: 'over temperature',
      inputs: { gpuTempC: 86.4 },
      status: 'paused',
      reason: 'Paused: GPU at 86 °C, at or above your 83 °C limit',
    },
    {
      name: 'temperature just under the limit, not latched',
      inputs: { gpuTempC: 82 },
      status: 'mining',
      reason: 'Mining',
    },
    { name: 'temperature unknown', inputs: { gpuTempC: null }, status: 'mining', reason: 'Mining' },
    {
      name: 'over power',
      inputs: { gpuPowerW: 320 },
      status: 'paused',
      reason: 'Paused: GPU drawing 320 W, over your 300 W limit',
    },
    {
      name: 'no power limit set',
      inputs: { gpuPowerW: 600 },
      config: { maxPowerW: null },
      status: 'mining',
      reason: 'Mining',
    },
    {
      name: 'user active',
      inputs: { idleSeconds: 200 },
      status: 'waiting-for-idle',
      reason: 'Waiting for the PC to be idle (3 of 5 minutes)',
    },
    {
      name: 'user active, idle not required',
      inputs: { idleSeconds: 0 },
      config: { onlyWhenIdle: false },
      status: 'mining',
      reason: 'Mining',
    },
    { name: 'no idle source', inputs: { idleSeconds: null }, status: 'mining', reason: 'Mining' },
    {
      name: 'outside the schedule',
      inputs: {},
      config: { schedule: [[], [{ start: '22:00', end: '07:00' }], [], [], [], [], []] },
      status: 'paused',
      reason: 'Paused: outside your mining schedule (next window Monday 22:00)',
    },
    {
      name: 'inside an overnight window, after midnight',
      inputs: { localTime: { weekday: 2, minuteOfDay: 6 * 60 + 59 } },
      config: { schedule: [[], [{ start: '22:00', end: '07:00' }], [], [], [], [], []] },
      status: 'mining',
      reason: 'Mining',
    },
    {
      name: 'empty schedule',
      inputs: {},
      config: { schedule: [[], [], [], [], [], [], []] },
      status: 'paused',
      reason: 'Paused: your mining schedule has no hours set',
    },
    {
      name: 'the most important reason wins',
      inputs: {
        idleSeconds: 10,
        gpuTempC: 90,
        games: [{ kind: 'steam-game', source: 'steam-registry', name: 'Elden Ring' }],
        onBattery: true,
      },
      status: 'paused',
      reason: 'Paused: running on battery',
    },
  ];

  it.each(cases)('$name', ({ inputs, config: overrides, status, reason }) => {
    const result = decide({ ...calm, ...inputs }, null, { ...config, ...overrides }, T0);
    expect(result.status).toBe(status);
    expect(result.decision).toBe(status === 'mining' ? 'mine' : 'pause');
    expect(result.reason).toBe(reason);
  });
});

/** Steps the policy through a timeline: each step is (seconds since start, inputs). */
function run(steps: [number, Partial<PolicyInputs>][], cfg: MiningPolicyConfig = config): { atS: number; decision: PolicyDecision }[] {
  let prev: PolicyDecision | null = null;
  return steps.map(([atS, inputs]) => {
    prev = decide({ ...calm, ...inputs }, prev, cfg, T0 + atS * 1000);
    return { atS, decision: prev };
  });
}

/** Every second from `fromS` to `toS` with the inputs `at(t)` gives. */
function everySecond(fromS: number, toS: number, at: (t: number) => Partial<PolicyInputs>) {
  const steps: [number, Partial<PolicyInputs>][] = [];
  for (let t = fromS; t <= toS; t++) steps.push([t, at(t)]);
  return steps;
}

const switches = (timeline: { decision: PolicyDecision }[]) =>
  timeline.filter((step, i) => i > 0 && step.decision.decision !== timeline[i - 1]!.decision.decision).length;

describe('decide: transitions', () => {
  it('preempts at once when a game starts and resumes resumeDelayS after it ends', () => {
    const game = { games: [{ kind: 'steam-game' as const, source: 'steam-registry', name: 'Hades' }] };
    const timeline = run([
      [0, {}],
      [1, game],
      [100, game],
      [101, {}],
      [130, {}],
      [160, {}],
      [161, {}],
    ]);
    expect(timeline.map((s) => s.decision.decision)).toEqual(['mine', 'pause', 'pause', 'pause', 'pause', 'mine', 'mine']);
    expect(timeline[3]!.decision.reason).toBe('Resuming in 59 seconds: the game has closed');
    expect(timeline[4]!.decision.reason).toBe('Resuming in 30 seconds: the game has closed');
    expect(timeline[5]!.decision.since).toBe(T0 + 160_000);
  });

  it('pauses once, not per flicker, for a game signal toggling every 5 s', () => {
    const timeline = run([
      ...everySecond(0, 120, (t) =>
        t >= 10 && Math.floor(t / 5) % 2 === 0 ? { games: [{ kind: 'fullscreen', source: 'x11-fullscreen', name: null }] } : {},
      ),
      ...everySecond(121, 300, () => ({})),
    ]);
    expect(switches(timeline)).toBe(2);
    // The last flicker was at t=119 (115..119 on); mining comes back 60 s after it.
    const resumedAt = timeline.find((s) => s.atS > 10 && s.decision.decision === 'mine')!.atS;
    expect(resumedAt).toBe(180);
  });

  it('stops on over-temperature and resumes only below limit − hysteresis, after the delay', () => {
    // 83 °C limit, 5 °C hysteresis: 80 °C is still "cooling down", 77 °C clears.
    const timeline = run([
      [0, { gpuTempC: 80 }],
      [1, { gpuTempC: 84 }],
      [2, { gpuTempC: 80 }],
      [30, { gpuTempC: 78 }],
      [31, { gpuTempC: 77 }],
      [89, { gpuTempC: 76 }],
      [90, { gpuTempC: 76 }],
    ]);
    expect(timeline.map((s) => s.decision.decision)).toEqual(['mine', 'pause', 'pause', 'pause', 'pause', 'pause', 'mine']);
    expect(timeline[2]!.decision.reason).toBe('Paused: GPU cooling down (80 °C, resuming below 78 °C)');
    // Last seen blocking at t=30 (78 °C is not below 78 °C): the delay runs from there.
    expect(timeline[4]!.decision.reason).toBe('Resuming in 59 seconds: the GPU has cooled down');
  });

  it('does not flap when the temperature hovers at the limit', () => {
    const timeline = run(everySecond(0, 600, (t) => ({ gpuTempC: t % 2 === 0 ? 83.5 : 82.5 })));
    expect(switches(timeline)).toBe(0);
    expect(timeline.at(-1)!.decision.decision).toBe('pause');
  });

  it('counts idle minutes while waiting and preempts on the first input', () => {
    const timeline = run([
      [0, { idleSeconds: 0 }],
      [180, { idleSeconds: 180 }],
      [300, { idleSeconds: 300 }],
      [900, { idleSeconds: 900 }],
      [901, { idleSeconds: 0 }],
    ]);
    expect(timeline.map((s) => s.decision.status)).toEqual([
      'waiting-for-idle',
      'waiting-for-idle',
      'mining',
      'mining',
      'waiting-for-idle',
    ]);
    expect(timeline[1]!.decision.reason).toBe('Waiting for the PC to be idle (3 of 5 minutes)');
    expect(timeline[1]!.decision.since).toBe(T0);
  });

  it('resumes at once when the user resumes', () => {
    const timeline = run([
      [0, { userPaused: true }],
      [1, { userPaused: false }],
    ]);
    expect(timeline.map((s) => s.decision.decision)).toEqual(['pause', 'mine']);
  });

  it('keeps the resume delay running behind a user pause', () => {
    const game = { games: [{ kind: 'd3d-fullscreen' as const, source: 'windows-notification-state', name: null }] };
    const timeline = run([
      [0, game],
      [1, { userPaused: true }],
      [30, { userPaused: false }],
      [61, {}],
    ]);
    expect(timeline.map((s) => s.decision.reason)).toEqual([
      'Paused: a full-screen Direct3D game is running',
      'Paused by you',
      'Resuming in 30 seconds: the game has closed',
      'Mining',
    ]);
  });

  it('moves between pause reasons without mining in between', () => {
    const timeline = run([
      [0, { onBattery: true }],
      [10, { onBattery: false, otherGpuProcesses: [{ pid: 7, name: 'ffmpeg' }] }],
      [20, { otherGpuProcesses: [] }],
      [69, {}],
      [70, {}],
    ]);
    // The delay runs from the last reading that saw the program (t=10).
    expect(timeline.map((s) => s.decision.reason)).toEqual([
      'Paused: running on battery',
      'Paused: another program is using the GPU (ffmpeg)',
      'Resuming in 50 seconds: the other program has left the GPU',
      'Resuming in 1 second: the other program has left the GPU',
      'Mining',
    ]);
  });

  it('follows the schedule boundary both ways', () => {
    const schedule = [[], [{ start: '09:00', end: '17:00' }], [], [], [], [], []];
    const at = (minuteOfDay: number) => ({ localTime: { weekday: 1, minuteOfDay } });
    const timeline = run(
      [
        [0, at(8 * 60 + 59)],
        [60, at(9 * 60)],
        [120, at(16 * 60 + 59)],
        [180, at(17 * 60)],
      ],
      { ...config, schedule },
    );
    expect(timeline.map((s) => s.decision.decision)).toEqual(['pause', 'mine', 'mine', 'pause']);
    expect(timeline[3]!.decision.reason).toBe('Paused: outside your mining schedule (next window Monday 09:00)');
  });
});

describe('parseMiningPolicyConfig', () => {
  it('accepts the defaults', () => {
    expect(parseMiningPolicyConfig(DEFAULT_MINING_POLICY)).toEqual(DEFAULT_MINING_POLICY);
  });

  it('names the bad field', () => {
    expect(() =>
      parseMiningPolicyConfig({ ...DEFAULT_MINING_POLICY, schedule: [[{ start: '25:00', end: '07:00' }], [], [], [], [], [], []] }),
    ).toThrow(/^Mining policy setting schedule\.0\.0\.start: use HH:MM/);
    expect(() => parseMiningPolicyConfig({ ...DEFAULT_MINING_POLICY, schedule: [[]] })).toThrow(/one list per weekday/);
  });
});
