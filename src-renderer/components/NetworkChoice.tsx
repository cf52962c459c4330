import { useState } from 'react';
import { useBridge } from '../bridge-context';
import { useInvoke } from '../hooks/use-invoke';
import { useStore } from '../store';
import { Empty } from './Empty';

/** The networks this build knows (assets/networks.json and the data folder's networks.json); picking one saves it. */
export function NetworkChoice() {
  const bridge = useBridge();
  const settings = useStore((s) => s.snapshot!.settings);
  const list = useInvoke('network:list', {}, undefined);
  const [error, setError] = useState<string | null>(null);
  const chosen = settings.network ?? list.value?.defaultNetwork ?? null;

  async function choose(name: string): Promise<void> {
    // The network's own validator: an override typed in Settings would hide the choice.
    const saved = await bridge.invoke('settings:update', { patch: { network: name, validatorUrl: null } });
    setError(saved.ok ? null : saved.error.message);
  }

  if (list.error) return <Empty tone="error">{list.error.message}</Empty>;
  if (!list.value) return <p className="muted">Loading the networks…</p>;
  return (
    <fieldset className="networks" data-testid="network-choice">
      <legend>Network</legend>
      {list.value.networks.map((n) => (
        <label key={n.name} className="network-option">
          <input type="radio" name="network" value={n.name} checked={n.name === chosen} onChange={() => void choose(n.name)} />{' '}
          <strong>{n.label}</strong>
          <span className="muted"> · {n.validators[0] ?? 'no validator: mines on this computer only'}</span>
        </label>
      ))}
      {settings.validatorUrl && (
        <p className="muted">
          Mining for <span className="mono">{settings.validatorUrl}</span> (set in Settings), not the network&apos;s validator.
        </p>
      )}
      {list.value.problem && <p className="muted">{list.value.problem}</p>}
      {error && <Empty tone="error">{error}</Empty>}
    </fieldset>
  );
}
