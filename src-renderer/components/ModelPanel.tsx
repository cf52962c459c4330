import { useState } from 'react';
import { useBridge } from '../bridge-context';
import { useInvoke } from '../hooks/use-invoke';
import { useStore } from '../store';
import { Empty } from './Empty';
import { ExplainedButton } from './ExplainedButton';
import { ProgressBar } from './ProgressBar';

const gb = (bytes: number) => `${(bytes / 1e9).toFixed(1)} GB`;

/** The teacher model: which one runs, which fits this GPU, and downloading it with progress. */
export function ModelPanel() {
  const bridge = useBridge();
  const teacher = useStore((s) => s.snapshot!.teacher);
  const download = useStore((s) => s.snapshot!.modelDownload);
  const manifestUrl = useStore((s) => s.snapshot!.settings.modelManifestUrl);
  const catalog = useInvoke('model:catalog', {}, undefined);
  const [actionError, setActionError] = useState<string | null>(null);
  // Ask again when the manifest changes.
  const [seenManifest, setSeenManifest] = useState(manifestUrl);
  if (seenManifest !== manifestUrl) {
    setSeenManifest(manifestUrl);
    catalog.refresh();
  }

  async function start(variantId: string): Promise<void> {
    const result = await bridge.invoke('model:download', { variantId });
    setActionError(result.ok ? null : result.error.message);
  }

  return (
    <div className="card" data-testid="model-panel">
      <h2>Teacher model</h2>
      <p>
        Running: <strong>{teacher.modelName ?? '—'}</strong>
        {teacher.isDemo && ' (the bundled demo model)'}
        {teacher.error && <span className="error-text"> — {teacher.error}</span>}
      </p>
      {download.status === 'downloading' && (
        <div className="download">
          <div className="task-line">
            <span>
              Downloading {download.variantId}
              {download.file ? ` · ${download.file}` : ''}
            </span>
            <span>
              {gb(download.variantBytesDone)} of {gb(download.variantBytesTotal)} · {Math.round(download.overall * 100)} %
            </span>
            <button type="button" onClick={() => void bridge.invoke('model:cancel', {})}>
              Cancel
            </button>
          </div>
          <ProgressBar done={Math.round(download.overall * 1000)} total={1000} label="Model download" />
        </div>
      )}
      {download.status === 'error' && <Empty tone="error">The download failed: {download.error}</Empty>}
      {download.status === 'done' && <p className="ok-text">Downloaded to {download.dir}; the teacher restarts with it.</p>}
      {actionError && <Empty tone="error">{actionError}</Empty>}
      {catalog.error && <Empty tone="error">{catalog.error.message}</Empty>}
      {catalog.value && (
        <>
          <p className="muted">{catalog.value.recommended.reason}</p>
          {catalog.value.manifestError && <p className="muted">{catalog.value.manifestError}</p>}
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Model</th>
                <th scope="col" className="num">
                  Disk
                </th>
                <th scope="col" className="num">
                  GPU memory
                </th>
                <th scope="col" />
              </tr>
            </thead>
            <tbody>
              {catalog.value.variants
                .filter((v) => !v.isDemo)
                .map((v) => (
                  <tr key={v.id} className={v.id === catalog.value!.recommended.variantId ? 'mine' : undefined}>
                    <td>
                      {v.label}
                      {v.id === catalog.value!.recommended.variantId && ' — recommended'}
                    </td>
                    <td className="num">{gb(v.diskBytes)}</td>
                    <td className="num">{(v.minVramMiB / 1024).toFixed(1)} GB</td>
                    <td className="nowrap">
                      <ExplainedButton
                        unavailable={
                          !v.downloadable
                            ? {
                                words: 'No download source',
                                reason: catalog.value!.manifestError ?? 'No download source offers this model.',
                              }
                            : download.status === 'downloading'
                              ? { words: 'Another download is running', reason: 'One download at a time: wait for it or cancel it.' }
                              : null
                        }
                        onClick={() => void start(v.id)}
                      >
                        Download
                      </ExplainedButton>
                    </td>
                  </tr>
                ))}
            </tbody>
          </table>
        </>
      )}
    </div>
  );
}
