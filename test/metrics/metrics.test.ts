import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_SETTINGS, StateSnapshot, type Settings } from '../../src-shared/state';
import { WandbReporter, WandbSchedule, renderMetrics, type WandbSdk } from '../../src-main/metrics';
import { Emitter } from '../../src-node/event';
import { LogHub, silentLogger } from '../../src-node/log';
import { initialState } from '../../src-main/state/initial-state';

const snapshot: StateSnapshot = StateSnapshot.parse({
  schemaVersion: 1,
  seq: 42,
  atMs: 1_700_000_000_000,
  miner: { status: 'mining', reason: 'Mining', userPaused: false, pausedUntilMs: null },
  task: { taskId: 't1', documents: 4, tokensDone: 300, tokensTotal: 1200, startedAtMs: 1_699_999_990_000, etaAtMs: null },
  tokensPerS: 812.5,
  tokens: { computed: 50_000, pending: 2_000, validated: 45_000, rejected: 1_000, today: 9_000, tasksCompleted: 37 },
  teacher: {
    state: 'ready',
    modelName: 'tiny',
    modelHash: 'abc',
    isDemo: true,
    executionProvider: 'cpu',
    providerReason: null,
    error: null,
  },
  modelDownload: initialState(DEFAULT_SETTINGS).modelDownload,
  validator: {
    mode: 'embedded',
    url: null,
    connection: 'online',
    lastError: null,
    retryAtMs: null,
    outboxPending: 3,
    signingAddress: null,
  },
  gpu: {
    status: 'ok',
    source: 'nvidia-smi',
    gpus: [
      {
        index: 0,
        name: 'NVIDIA GeForce RTX 3090',
        driver: '550.107.02',
        utilizationPct: 99,
        memoryUsedMiB: 22011,
        memoryTotalMiB: 24576,
        tempC: 74,
        powerW: 348.91,
        powerLimitW: 350,
        fanPct: 75,
        smClockMHz: 1695,
        memClockMHz: 9751,
      },
      {
        index: 1,
        name: 'NVIDIA GeForce RTX 3060 Laptop GPU',
        driver: '550.107.02',
        utilizationPct: 0,
        memoryUsedMiB: 5,
        memoryTotalMiB: 6144,
        tempC: 33,
        powerW: null,
        powerLimitW: null,
        fanPct: null,
        smClockMHz: 210,
        memClockMHz: 405,
      },
    ],
  },
  resources: { cores: 2, app: null, teacher: null, recomputeTeacher: null },
  earnings: {
    unit: 'COMAI',
    earnedNano: '1234500000',
    creditedNano: '1000000000',
    settlingNano: '200000000',
    settlesAtMs: 1_700_003_600_000,
    projectedNano: '34500000',
    epochEndsAtMs: 1_700_000_600_000,
    epochShare: 0.125,
    perHourNano: '125000000',
    perDayNano: '3000000000',
  },
  wallet: { miningAddress: null, payoutAddress: null, payoutLinked: false },
  settings: DEFAULT_SETTINGS,
  dataDir: '/data',
  logs: [],
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A strict reader of the Prometheus text exposition format (0.0.4): anything else throws. */
function parsePrometheus(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?(?:\d+(?:\.\d+)?(?:e[+-]?\d+)?|NaN|\+Inf|-Inf))$/;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = line.match(/^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (gauge|counter|histogram|summary|untyped)$/);
    if (type) {
      types.set(type[1]!, type[2]!);
      continue;
    }
    if (/^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .+$/.test(line)) continue;
    const match = line.match(sampleLine);
    if (!match) throw new Error(`not Prometheus text: ${line}`);
    const labels: Record<string, string> = {};
    const labelText = match[2] ?? '';
    const labelPattern = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/g;
    let consumed = 0;
    for (const label of labelText.matchAll(labelPattern)) {
      labels[label[1]!] = label[2]!.replace(/\\(.)/g, '$1');
      consumed += label[0].length;
    }
    if (consumed !== labelText.length) throw new Error(`bad labels: ${line}`);
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return { samples, types };
}

function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

describe('renderMetrics', () => {
  it('serves the snapshot as valid Prometheus text with the right values', async () => {
    const { samples, types } = parsePrometheus(await renderMetrics(snapshot));
    expect(valueOf(samples, 'nya_tokens_per_second')).toBe(812.5);
    expect(valueOf(samples, 'nya_tokens_total', { state: 'validated' })).toBe(45_000);
    expect(valueOf(samples, 'nya_tokens_total', { state: 'rejected' })).toBe(1_000);
    expect(types.get('nya_tokens_total')).toBe('counter');
    expect(valueOf(samples, 'nya_tokens_pending')).toBe(2_000);
    expect(valueOf(samples, 'nya_tasks_completed_total')).toBe(37);
    expect(valueOf(samples, 'nya_outbox_pending')).toBe(3);
    expect(valueOf(samples, 'nya_validator_connected')).toBe(1);
    expect(valueOf(samples, 'nya_earned_comai')).toBeCloseTo(1.2345, 9);
    expect(valueOf(samples, 'nya_epoch_share')).toBe(0.125);
    expect(valueOf(samples, 'nya_earnings_comai', { state: 'credited' })).toBe(1);
    expect(valueOf(samples, 'nya_earnings_comai', { state: 'settling' })).toBeCloseTo(0.2, 9);
    expect(valueOf(samples, 'nya_earnings_comai', { state: 'projected' })).toBeCloseTo(0.0345, 9);
    expect(valueOf(samples, 'nya_earnings_rate_comai_per_hour')).toBe(0.125);
    expect(valueOf(samples, 'nya_task_tokens_done')).toBe(300);
  });

  it('labels the miner status gauge with every status, one of them 1', async () => {
    const { samples } = parsePrometheus(await renderMetrics(snapshot));
    const statuses = samples.filter((s) => s.name === 'nya_miner_status');
    expect(statuses).toHaveLength(7);
    expect(statuses.filter((s) => s.value === 1).map((s) => s.labels.status)).toEqual(['mining']);
  });

  it('has one series per GPU and leaves out what a board does not report', async () => {
    const { samples } = parsePrometheus(await renderMetrics(snapshot));
    expect(valueOf(samples, 'nya_gpu_temperature_celsius', { gpu: '0', name: 'NVIDIA GeForce RTX 3090' })).toBe(74);
    expect(valueOf(samples, 'nya_gpu_temperature_celsius', { gpu: '1' })).toBe(33);
    expect(valueOf(samples, 'nya_gpu_memory_total_bytes', { gpu: '0' })).toBe(24576 * 1024 * 1024);
    expect(valueOf(samples, 'nya_gpu_sm_clock_hertz', { gpu: '1' })).toBe(210e6);
    expect(samples.filter((s) => s.name === 'nya_gpu_power_watts').map((s) => s.labels.gpu)).toEqual(['0']);
  });

  it('follows the snapshot: two renders do not share state', async () => {
    const paused = {
      ...snapshot,
      miner: { ...snapshot.miner, status: 'paused' as const },
      gpu: { status: 'none' as const, source: null, gpus: [] },
    };
    await renderMetrics(snapshot);
    const { samples } = parsePrometheus(await renderMetrics(paused));
    expect(valueOf(samples, 'nya_miner_status', { status: 'paused' })).toBe(1);
    expect(valueOf(samples, 'nya_miner_status', { status: 'mining' })).toBe(0);
    expect(samples.some((s) => s.name.startsWith('nya_gpu_'))).toBe(false);
  });
});

function recordingLogger() {
  const lines: string[] = [];
  const hub = new LogHub();
  hub.attach((record) => lines.push(`${record.level} ${record.message}`));
  return { logger: hub.logger('test'), lines };
}

describe('WandbReporter', () => {
  const keyBefore = process.env.WANDB_API_KEY;
  afterEach(() => {
    if (keyBefore === undefined) delete process.env.WANDB_API_KEY;
    else process.env.WANDB_API_KEY = keyBefore;
  });

  it('does nothing while off', async () => {
    let loaded = false;
    const reporter = new WandbReporter({
      enabled: false,
      getApiKey: async () => 'k',
      loadSdk: async () => {
        loaded = true;
        throw new Error('x');
      },
    });
    await reporter.start();
    await reporter.report(snapshot);
    expect(loaded).toBe(false);
    expect(reporter.active).toBe(false);
  });

  it('logs one line and stays quiet when @wandb/sdk is not installed', async () => {
    const { logger, lines } = recordingLogger();
    // It is an optional dependency: an install may lack it. Load a package that does not exist.
    const missing = () => import(/* @vite-ignore */ ['@wandb', 'sdk-not-installed'].join('/')) as Promise<never>;
    const reporter = new WandbReporter({ enabled: true, getApiKey: async () => 'secret-key', logger, loadSdk: missing });
    await reporter.start();
    await reporter.report(snapshot);
    await reporter.report(snapshot);
    await reporter.dispose();
    expect(reporter.active).toBe(false);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^warn W&B logging is on but @wandb\/sdk could not be loaded \(.+\); W&B logging is off$/);
    expect(lines[0]).not.toContain('secret-key');
  });

  it('turns itself off without a key', async () => {
    const { logger, lines } = recordingLogger();
    const sdk = fakeSdk();
    const reporter = new WandbReporter({ enabled: true, getApiKey: async () => null, loadSdk: async () => sdk, logger });
    await reporter.start();
    await reporter.report(snapshot);
    expect(sdk.logged).toEqual([]);
    expect(lines).toEqual(['warn W&B logging is on but no W&B API key is set; W&B logging is off']);
  });

  it('logs the same figures as /metrics through the SDK', async () => {
    const sdk = fakeSdk();
    const reporter = new WandbReporter({ enabled: true, project: 'rig', getApiKey: async () => 'k1', loadSdk: async () => sdk });
    await reporter.start();
    await reporter.report(snapshot);
    await reporter.dispose();
    expect(sdk.inits).toEqual([{ project: 'rig' }]);
    expect(process.env.WANDB_API_KEY).toBe('k1');
    expect(sdk.logged[0]).toMatchObject({
      nya_tokens_per_second: 812.5,
      'nya_tokens_total/state=validated': 45_000,
      'nya_gpu_temperature_celsius/gpu=1': 33,
    });
    expect(sdk.finished).toBe(1);
  });

  it('goes quiet after one line when logging fails offline', async () => {
    const { logger, lines } = recordingLogger();
    const sdk = fakeSdk(new Error('getaddrinfo ENOTFOUND api.wandb.ai'));
    const reporter = new WandbReporter({ enabled: true, getApiKey: async () => 'k', loadSdk: async () => sdk, logger });
    await reporter.start();
    await reporter.report(snapshot);
    await reporter.report(snapshot);
    expect(sdk.logged).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith('warn'))).toEqual([
      'warn W&B logging failed (getaddrinfo ENOTFOUND api.wandb.ai); W&B logging is off until restart',
    ]);
  });
});

function fakeSdk(logError?: Error) {
  const state = { inits: [] as unknown[], logged: [] as Record<string, number>[], finished: 0 };
  const sdk: WandbSdk = {
    init: async (options) => void state.inits.push(options),
    log: async (data) => {
      state.logged.push(data);
      if (logError) throw logError;
    },
    finish: async () => void state.finished++,
  };
  return Object.assign(state, sdk);
}

describe('WandbSchedule', () => {
  function schedule(initial: Partial<Settings>) {
    let current: Settings = { ...DEFAULT_SETTINGS, ...initial };
    const changed = new Emitter<{ before: Settings; after: Settings }>();
    const sdks: ReturnType<typeof fakeSdk>[] = [];
    const s = new WandbSchedule({
      settings: { get: () => current, onChange: changed.event },
      snapshot: () => snapshot,
      getApiKey: async () => 'k',
      logger: silentLogger,
      everyMs: 20,
      loadSdk: async () => {
        const sdk = fakeSdk();
        sdks.push(sdk);
        return sdk;
      },
    });
    const set = (patch: Partial<Settings>) => {
      const before = current;
      current = { ...current, ...patch };
      changed.fire({ before, after: current });
    };
    return { s, sdks, set };
  }

  it('reports on its period only while the user has it on, and starts a new run when the project changes', async () => {
    const { s, sdks, set } = schedule({ wandbEnabled: false });
    s.start();
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(sdks).toHaveLength(0);
    set({ wandbEnabled: true, wandbProject: 'rig-a' });
    await vi.waitFor(() => expect(sdks[0]?.logged.length).toBeGreaterThanOrEqual(2));
    expect(sdks[0]?.inits).toEqual([expect.objectContaining({ project: 'rig-a' })]);
    set({ wandbProject: 'rig-b' });
    await vi.waitFor(() => expect(sdks[1]?.logged.length).toBeGreaterThanOrEqual(1));
    expect(sdks[0]?.finished).toBe(1);
    expect(sdks[1]?.inits).toEqual([expect.objectContaining({ project: 'rig-b' })]);
    await s.dispose();
    expect(sdks[1]?.finished).toBe(1);
    const count = sdks[1]!.logged.length;
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(sdks[1]!.logged.length).toBe(count);
  });
});
