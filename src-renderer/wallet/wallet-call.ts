import { useCallback, useState } from 'react';
import type { NyaInvoke } from '../../src-shared/ipc';
import type { Result } from '../../src-shared/result';
import { WALLET_CHANNELS, type WalletChannel, type WalletRequest, type WalletResponse } from '../../src-shared/wallet-contract';

/** What the panels call main with: the bridge's `invoke` itself (a bound function, see `NyaBridge`). */
export type WalletInvoke = NyaInvoke;

type CallState<C extends WalletChannel> = { busy: boolean; error: string | null; value: WalletResponse<C> | null };

/** One wallet channel: busy while in flight, the error as a sentence, the answer parsed by its schema. */
export function useWalletCall<C extends WalletChannel>(invoke: WalletInvoke, channel: C) {
  const [state, setState] = useState<CallState<C>>({ busy: false, error: null, value: null });
  const call = useCallback(
    async (payload: WalletRequest<C>): Promise<WalletResponse<C> | null> => {
      setState((s) => ({ ...s, busy: true, error: null }));
      let result: Result<unknown>;
      try {
        result = await invoke(channel, payload);
      } catch (error) {
        result = { ok: false, error: { code: 'internal', message: error instanceof Error ? error.message : String(error) } };
      }
      if (!result.ok) {
        setState({ busy: false, error: result.error.message, value: null });
        return null;
      }
      const parsed = WALLET_CHANNELS[channel].response.safeParse(result.value);
      if (!parsed.success) {
        setState({ busy: false, error: 'The app answered with something this page cannot read.', value: null });
        return null;
      }
      const value = parsed.data as WalletResponse<C>;
      setState({ busy: false, error: null, value });
      return value;
    },
    [invoke, channel],
  );
  const reset = useCallback(() => setState({ busy: false, error: null, value: null }), []);
  return { ...state, call, reset };
}
