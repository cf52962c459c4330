import { DEFAULT_SETTINGS, type StateSnapshot } from '../../src-shared/state';
import { initialState } from '../../src-main/state/initial-state';

/**
 * A complete, valid snapshot to vary per test (`StateSnapshot.parse` accepts it). Built on the
 * services' own first state, so it follows the schema as it grows.
 */
export function snapshotFixture(miner: Partial<StateSnapshot['miner']> = {}, tokensPerS = 0): StateSnapshot {
  const body = initialState(DEFAULT_SETTINGS);
  return {
    ...body,
    schemaVersion: 1,
    seq: 1,
    atMs: 1_700_000_000_000,
    miner: { status: 'mining', reason: 'Mining', userPaused: false, pausedUntilMs: null, ...miner },
    tokensPerS,
    teacher: { ...body.teacher, state: 'ready', modelName: 'demo', isDemo: true, executionProvider: 'cpu' },
    logs: [],
  };
}
