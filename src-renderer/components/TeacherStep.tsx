import { useBridge } from '../bridge-context';
import { useStore } from '../store';
import { ProgressBar } from './ProgressBar';

const gb = (bytes: number) => (bytes / 1e9).toFixed(1);

/**
 * The first-run guide's teacher step: with a network's validator the miner gets its teacher by
 * itself, so this shows that one download (or why it stopped), never a list of buttons.
 */
export function TeacherStep() {
  const bridge = useBridge();
  const { teacher, modelDownload: download, validator, settings, miner } = useStore((s) => s.snapshot!);

  if (validator.mode === 'embedded') {
    return (
      <p data-testid="teacher-step">
        On this computer only, the miner runs the bundled demo model: there is nothing to download. Pick a network to mine for real.
      </p>
    );
  }
  if (download.status === 'downloading') {
    return (
      <div data-testid="teacher-step">
        <p>
          Getting the teacher: {gb(download.variantBytesDone)} of {gb(download.variantBytesTotal)} GB
        </p>
        <ProgressBar done={Math.round(download.overall * 1000)} total={1000} label="Teacher download" />
        <p className="muted">
          {download.variantId}, the largest teacher that fits this GPU. It resumes where it stopped if the app closes.
        </p>
      </div>
    );
  }
  if (download.status === 'error' && !settings.modelDir) {
    const variantId = download.variantId;
    return (
      <div data-testid="teacher-step">
        <p className="error-text" role="alert">
          Getting the teacher stopped: {download.error}
        </p>
        {variantId && (
          <button type="button" onClick={() => void bridge.invoke('model:download', { variantId })}>
            Try again
          </button>
        )}
      </div>
    );
  }
  if (settings.modelDir) {
    return (
      <p data-testid="teacher-step">
        Teacher: <strong>{teacher.modelName ?? settings.modelDir}</strong>
        {teacher.state === 'ready' ? ', ready.' : teacher.state === 'loading' ? ', loading…' : teacher.error ? ` — ${teacher.error}` : '.'}
      </p>
    );
  }
  return <p data-testid="teacher-step">{miner.reason}</p>;
}
