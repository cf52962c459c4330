import { create } from 'zustand';
import type { StateSnapshot } from '../src-shared/state';
import type { ConnectionStatus } from './bridge';

export const PAGES = ['dashboard', 'leaderboard', 'wallet', 'settings', 'logs'] as const;
export type Page = (typeof PAGES)[number];

interface MinerSlice {
  snapshot: StateSnapshot | null;
  connection: ConnectionStatus;
}

interface UiSlice {
  page: Page;
  setPage(page: Page): void;
}

/**
 * One store. The miner slice is written only by the bridge (state pushes and connection status);
 * the UI slice holds what only the view cares about. Components read with selectors.
 */
export const useStore = create<MinerSlice & UiSlice>()((set) => ({
  snapshot: null,
  connection: 'connecting',
  page: 'dashboard',
  setPage: (page) => set({ page }),
}));

/** Bridge-only writers. A push older than what is shown is dropped. */
export function applySnapshot(snapshot: StateSnapshot): void {
  const current = useStore.getState().snapshot;
  if (current && snapshot.seq < current.seq && snapshot.atMs <= current.atMs) return;
  useStore.setState({ snapshot });
}

export function applyConnection(connection: ConnectionStatus): void {
  useStore.setState({ connection });
}
