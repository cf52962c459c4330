import { HISTORY_METRICS, type HistorySeries } from '../../src-shared/ipc';
import type { NyaBridge } from '../../src-shared/ipc';
import type { Result } from '../../src-shared/result';
import { DEFAULT_SETTINGS, type StateSnapshot } from '../../src-shared/state';
import { NO_EARNINGS } from '../../src-main/miner/earnings';
import { IDLE_DOWNLOAD } from '../../src-main/model-manager/download-service';

export function snapshot(patch: Partial<StateSnapshot> = {}): StateSnapshot {
  return {
    schemaVersion: 1,
    seq: 1,
    atMs: Date.parse('2026-11-25T12:00:00Z'),
    miner: { status: 'mining', reason: 'Between tasks', userPaused: false, pausedUntilMs: null },
    task: null,
    tokensPerS: 0,
    tokens: { computed: 0, pending: 0, validated: 0, rejected: 0, today: 0, tasksCompleted: 0 },
    teacher: {
      state: 'ready',
      modelName: 'demo',
      modelHash: 'a'.repeat(64),
      isDemo: false,
      executionProvider: 'CPU',
      providerReason: 'no GPU',
      error: null,
    },
    modelDownload: IDLE_DOWNLOAD,
    validator: {
      mode: 'embedded',
      url: null,
      connection: 'online',
      lastError: null,
      retryAtMs: null,
      outboxPending: 0,
      signingAddress: null,
    },
    gpu: { status: 'none', source: null, gpus: [] },
    resources: { cores: 2, app: null, teacher: null, recomputeTeacher: null },
    earnings: NO_EARNINGS,
    wallet: { miningAddress: null, payoutAddress: null, payoutLinked: false },
    settings: DEFAULT_SETTINGS,
    dataDir: '/home/miner/.local/share/nya-miner',
    logs: [],
    ...patch,
  };
}

export function emptyHistory(range: HistorySeries['range']): HistorySeries {
  return { range, tMs: [], series: Object.fromEntries(HISTORY_METRICS.map((m) => [m, []])) as unknown as HistorySeries['series'] };
}

/** A bridge whose answers the test decides, recording every call. */
export function fakeBridge(answer: (channel: string, request: unknown) => Result<unknown>): NyaBridge & { calls: [string, unknown][] } {
  const calls: [string, unknown][] = [];
  return {
    calls,
    invoke: (async (channel: string, request: unknown) => {
      calls.push([channel, request]);
      return answer(channel, request);
    }) as NyaBridge['invoke'],
    onState: () => () => undefined,
  };
}
