import { useState } from 'react';
import { useBridge } from '../bridge-context';

/** "Export diagnostics": main writes the report into the data folder; the path is shown to attach to a bug report. */
export function DiagnosticsExport() {
  const bridge = useBridge();
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<{ tone: 'ok' | 'error'; text: string } | null>(null);

  async function exportReport(): Promise<void> {
    setBusy(true);
    const result = await bridge.invoke('diagnostics:export', {});
    setBusy(false);
    setOutcome(result.ok ? { tone: 'ok', text: result.value.path } : { tone: 'error', text: result.error.message });
  }

  return (
    <div className="card" data-testid="diagnostics">
      <h2>Diagnostics</h2>
      <p>For a bug report: versions, GPU, execution provider, settings and recent log lines. No keys, passphrases or recovery phrases.</p>
      <button type="button" disabled={busy} onClick={() => void exportReport()}>
        Export diagnostics
      </button>
      {outcome && (
        <p role="status" className={outcome.tone === 'error' ? 'error-text' : undefined}>
          {outcome.tone === 'ok' ? (
            <>
              Written to <span className="mono">{outcome.text}</span>
            </>
          ) : (
            outcome.text
          )}
        </p>
      )}
    </div>
  );
}
