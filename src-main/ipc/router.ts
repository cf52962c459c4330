import { isInvokeChannel, type InvokeChannel } from '../../src-shared/channels';
import { IPC, type IpcParsedRequest, type IpcResponse } from '../../src-shared/ipc';
import { CodedError, err, ok, type Result } from '../../src-shared/result';
import type { Logger } from '../../src-node/log';

/** What each channel does, given an already-validated request. */
export type IpcHandlers = {
  [C in InvokeChannel]: (request: IpcParsedRequest<C>) => IpcResponse<C> | Promise<IpcResponse<C>>;
};

export interface IpcRouter {
  /** Never throws: every outcome, including a malformed call, is a `Result`. */
  invoke(channel: unknown, payload: unknown): Promise<Result<unknown>>;
}

/**
 * The transport-independent half of every handler: check the channel, parse the payload with its
 * schema, call the service, wrap the answer. Electron's ipcMain registry and the headless
 * WebSocket both check the sender first, then call this.
 */
export function createIpcRouter(handlers: IpcHandlers, log: Logger): IpcRouter {
  return {
    async invoke(channel, payload) {
      if (!isInvokeChannel(channel)) {
        return err('unknown-channel', `no such channel: ${JSON.stringify(channel)?.slice(0, 80)}`);
      }
      const parsed = IPC[channel].request.safeParse(payload ?? {});
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const where = issue && issue.path.length ? ` at ${issue.path.join('.')}` : '';
        return err('bad-request', `${channel}: invalid request${where}: ${issue?.message ?? 'malformed'}`);
      }
      try {
        const handler = handlers[channel] as (request: unknown) => unknown;
        return ok(await handler(parsed.data));
      } catch (error) {
        // A service's refusal ("the validator URL must be https") answers as-is; anything else is a bug.
        if (error instanceof CodedError) return { ok: false, error: error.toResultError() };
        log.error(`${channel} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        return err('internal', `${channel} failed unexpectedly; see the log`);
      }
    },
  };
}
