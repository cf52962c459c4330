import type { Settings } from '../../src-shared/state';
import { NO_EARNINGS } from '../miner/earnings';
import { IDLE_DOWNLOAD } from '../model-manager/download-service';
import type { SnapshotBody } from './state-store';

/** What the first paint shows before any service has reported: honest unknowns, no numbers. */
export function initialState(settings: Settings, dataDir = '', validatorUrl = settings.validatorUrl): SnapshotBody {
  return {
    miner: { status: 'starting', reason: 'Starting the miner', userPaused: false, pausedUntilMs: null },
    task: null,
    tokensPerS: 0,
    tokens: { computed: 0, pending: 0, validated: 0, rejected: 0, today: 0, tasksCompleted: 0 },
    teacher: {
      state: 'not-loaded',
      modelName: null,
      modelHash: null,
      isDemo: false,
      executionProvider: null,
      providerReason: null,
      error: null,
    },
    modelDownload: IDLE_DOWNLOAD,
    validator: {
      mode: validatorUrl ? 'remote' : 'embedded',
      url: validatorUrl,
      connection: 'connecting',
      lastError: null,
      retryAtMs: null,
      outboxPending: 0,
      signingAddress: null,
    },
    gpu: { status: 'unknown', source: null, gpus: [] },
    resources: { cores: 1, app: null, teacher: null, recomputeTeacher: null },
    earnings: NO_EARNINGS,
    wallet: { miningAddress: null, payoutAddress: null, payoutLinked: false },
    settings,
    dataDir,
  };
}
