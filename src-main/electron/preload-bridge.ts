import type { IpcRenderer } from 'electron';
import { INVOKE_CHANNELS, STATE_CHANNEL } from '../../src-shared/channels';
import type { NyaBridge } from '../../src-shared/ipc';
import type { Result } from '../../src-shared/result';
import type { StateSnapshot } from '../../src-shared/state';

/**
 * `window.nya`, built on ipcRenderer. Imports nothing but the zod-free channel list and types, so
 * the sandboxed preload bundle stays a few kilobytes. Only contract channels pass (defence in
 * depth: main checks the sender and validates every payload anyway), and the page never sees
 * an `IpcRendererEvent` (it would carry `sender`, i.e. ipcRenderer itself).
 */
export function createNyaBridge(ipc: Pick<IpcRenderer, 'invoke' | 'on' | 'removeListener'>): NyaBridge {
  const allowed: readonly string[] = INVOKE_CHANNELS;
  return {
    invoke(channel, request) {
      if (!allowed.includes(channel)) {
        return Promise.resolve({
          ok: false,
          error: { code: 'unknown-channel', message: `no such channel: ${String(channel).slice(0, 80)}` },
        });
      }
      // A rejected invoke (no handler yet during start-up, the main process going away) is still
      // a Result for the page: nothing throws across IPC.
      return (ipc.invoke(channel, request) as Promise<Result<never>>).catch((error: unknown) => ({
        ok: false as const,
        error: {
          code: 'unavailable' as const,
          message: `the miner did not answer: ${error instanceof Error ? error.message : String(error)}`,
        },
      }));
    },
    onState(listener) {
      if (typeof listener !== 'function') throw new TypeError('onState needs a function');
      const forward = (_event: unknown, snapshot: StateSnapshot) => listener(snapshot);
      ipc.on(STATE_CHANNEL, forward);
      return () => {
        ipc.removeListener(STATE_CHANNEL, forward);
      };
    },
  };
}
