import { useCallback, useEffect, useRef, useState } from 'react';
import type { InvokeChannel } from '../../src-shared/channels';
import type { IpcRequest, IpcResponse } from '../../src-shared/ipc';
import type { ResultError } from '../../src-shared/result';
import { useBridge } from '../bridge-context';

export interface Invoked<T> {
  value: T | null;
  error: ResultError | null;
  loading: boolean;
  refresh(): void;
}

/**
 * Data that is asked for rather than pushed (leaderboard, ledger, chart history): one call on
 * mount and whenever the request changes, optionally repeated. The last good value stays on screen
 * while a refresh fails, with the error beside it.
 */
export function useInvoke<C extends InvokeChannel>(channel: C, request: IpcRequest<C>, refreshMs?: number): Invoked<IpcResponse<C>> {
  const bridge = useBridge();
  const key = JSON.stringify(request);
  const [value, setValue] = useState<IpcResponse<C> | null>(null);
  const [error, setError] = useState<ResultError | null>(null);
  const [loading, setLoading] = useState(true);
  const latest = useRef(0);

  const load = useCallback(() => {
    const call = ++latest.current;
    setLoading(true);
    void bridge.invoke(channel, JSON.parse(key) as IpcRequest<C>).then((result) => {
      if (call !== latest.current) return;
      setLoading(false);
      if (result.ok) {
        setValue(result.value);
        setError(null);
      } else {
        setError(result.error);
      }
    });
  }, [bridge, channel, key]);

  useEffect(() => {
    load();
    if (!refreshMs) return;
    const timer = setInterval(load, refreshMs);
    return () => clearInterval(timer);
  }, [load, refreshMs]);

  return { value, error, loading, refresh: load };
}
