import { createContext, useContext } from 'react';
import type { NyaBridge } from '../src-shared/ipc';

/** Components send intents through this; tests provide a bridge of their own. */
export const BridgeContext = createContext<NyaBridge | null>(null);

export function useBridge(): NyaBridge {
  const bridge = useContext(BridgeContext);
  if (!bridge) throw new Error('useBridge outside BridgeContext');
  return bridge;
}
