import { DEFAULT_SETTINGS, type StateSnapshot } from '../../src-shared/state';

/** A complete, valid snapshot to vary per test (`StateSnapshot.parse` accepts it). */
export function snapshotFixture(miner: Partial<StateSnapshot['miner']> = {}, tokensPerS = 0): StateSnapshot {
  return {
    schemaVersion: 1,
    seq: 1,
    atMs: 1_700_000_000_000,
    miner: { status: 'mining', reason: 'Mining', userPaused: false, pausedUntilMs: null, ...miner },
    task: null,
    tokensPerS,
    tokens: { computed: 0, submitted: 0, pending: 0, validated: 0, rejected: 0, today: 0, tasksCompleted: 0 },
    teacher: {
      state: 'ready',
      modelName: 'demo',
      modelHash: null,
      isDemo: true,
      executionProvider: 'cpu',
      providerReason: null,
      error: null,
    },
    validator: { mode: 'embedded', url: null, connection: 'online', lastError: null, retryAtMs: null, outboxPending: 0 },
    gpu: { status: 'none', source: null, gpus: [] },
    earnings: { unit: 'COMAI', earnedNano: '0', validatedTokens: 0, epochShare: null },
    wallet: { miningAddress: null, payoutAddress: null, payoutLinked: false },
    settings: DEFAULT_SETTINGS,
    logs: [],
  };
}
