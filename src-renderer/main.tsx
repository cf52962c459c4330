import { StrictMode } from 'react';
import { z } from 'zod';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { connectBridge } from './bridge';
import { BridgeContext } from './bridge-context';
import { applyConnection, applySnapshot } from './store';
import './styles.css';

// The CSP forbids eval; tell zod not to probe for it.
z.config({ jitless: true });

const bridge = connectBridge(applyConnection);
bridge.onState(applySnapshot);
// First paint: ask once; pushes follow.
void bridge.invoke('state:get', {}).then((result) => {
  if (result.ok) applySnapshot(result.value);
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <BridgeContext.Provider value={bridge}>
      <App />
    </BridgeContext.Provider>
  </StrictMode>,
);
