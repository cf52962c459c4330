import type { HistoryRange, HistorySeries, ModelCatalog } from '../../src-shared/ipc';
import type { NetworkList } from '../../src-shared/network';
import type { LeaderboardResponse, LedgerResponse } from '../../src-shared/protocol';
import { CodedError } from '../../src-shared/result';
import type { ModelDownload, Settings, StateSnapshot } from '../../src-shared/state';
import type { WalletService } from '../wallet/wallet-service';
import type { LogRing } from '../state/log-ring';
import type { StateStore } from '../state/state-store';
import { walletResultError } from '../wallet/wallet-service';
import type { IpcHandlers } from './router';

/** What the handlers reach into; the composition roots pass the live services. */
export interface HandlerDeps {
  state: StateStore;
  logs: LogRing;
  setPaused(paused: boolean, forMs?: number): StateSnapshot['miner'];
  updateSettings(patch: Partial<Settings>): Settings | Promise<Settings>;
  history(range: HistoryRange): HistorySeries;
  /** Null while no validator session exists (e.g. the model is still loading). */
  validator(): {
    leaderboard(q: { page: number; pageSize: number; gpuClass?: string; address?: string }): Promise<LeaderboardResponse>;
    ledger(before?: string, limit?: number): Promise<LedgerResponse>;
  } | null;
  modelCatalog(): Promise<ModelCatalog>;
  /** Starts the download and answers at once; progress goes into the snapshot. */
  downloadModel(variantId: string): ModelDownload;
  cancelModelDownload(): ModelDownload;
  networks(): NetworkList;
  /** Writes the diagnostics report into the data folder; answers its path. */
  exportDiagnostics(): { path: string };
  wallet: Pick<
    WalletService,
    'status' | 'create' | 'requestImport' | 'exportKey' | 'remove' | 'startPayoutLink' | 'submitPayoutSignature' | 'refreshBalance'
  >;
}

const NO_VALIDATOR = 'Not connected to a validator yet; try again in a moment.';

/**
 * Every channel's behaviour, given a request the router has already validated. Services that
 * refuse something throw `CodedError`; the router turns that into the result envelope.
 */
export function createHandlers(d: HandlerDeps): IpcHandlers {
  return {
    'state:get': () => d.state.get(),
    'miner:set-paused': ({ paused, forMs }) => {
      if (!paused && forMs !== undefined) throw new CodedError('bad-request', '`forMs` only applies to a pause');
      return d.setPaused(paused, forMs);
    },
    'settings:update': ({ patch }) => d.updateSettings(patch),
    'logs:get': (q) => d.logs.query(q),
    'history:get': ({ range }) => d.history(range),
    'validator:leaderboard': async (q) => {
      const v = d.validator();
      if (!v) throw new CodedError('unavailable', NO_VALIDATOR);
      const address = d.state.get().validator.signingAddress;
      // The validator ranks the user's row too, so it can be pinned whichever page it is on.
      const { me, ...board } = await v.leaderboard({ ...q, ...(address ? { address } : {}) }).catch(unavailable);
      // A validator from before the `address` parameter leaves `me` out: then only this page can show it.
      return { board, me: me !== undefined ? me : (board.rows.find((r) => r.address === address) ?? null) };
    },
    'validator:ledger': async ({ before, limit }) => {
      const v = d.validator();
      if (!v) throw new CodedError('unavailable', NO_VALIDATOR);
      return v.ledger(before, limit).catch(unavailable);
    },
    'model:catalog': () => d.modelCatalog(),
    'model:download': ({ variantId }) => d.downloadModel(variantId),
    'model:cancel': () => d.cancelModelDownload(),
    'network:list': () => d.networks(),
    'wallet:status': () => d.wallet.status(),
    'wallet:create': () => wallet(() => d.wallet.create()),
    'wallet:import': (req) => wallet(() => d.wallet.requestImport(req)),
    'wallet:export': (req) => wallet(() => d.wallet.exportKey(req)),
    'wallet:remove': (req) => wallet(() => d.wallet.remove(req)),
    'wallet:start-payout-link': (req) => wallet(() => d.wallet.startPayoutLink(req)),
    'wallet:submit-payout-signature': (req) => wallet(() => d.wallet.submitPayoutSignature(req)),
    'wallet:refresh-balance': () => d.wallet.refreshBalance(),
    'diagnostics:export': () => d.exportDiagnostics(),
  };
}

/** Wallet failures carry their own code and sentence (wrong passphrase, bad key file, ...). */
async function wallet<T>(call: () => T | Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const e = walletResultError(error);
    throw new CodedError(e.code, e.message);
  }
}

function unavailable(error: unknown): never {
  throw new CodedError('unavailable', `The validator did not answer: ${error instanceof Error ? error.message : String(error)}`);
}
