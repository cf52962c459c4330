import { useState, type FormEvent } from 'react';
import { Settings, type ExecutionProviderChoice } from '../../src-shared/state';
import { useBridge } from '../bridge-context';
import { DiagnosticsExport } from '../components/DiagnosticsExport';
import { ModelPanel } from '../components/ModelPanel';
import { useInvoke } from '../hooks/use-invoke';
import { useStore } from '../store';

type Draft = {
  /** '' is the build's default network. */
  network: string;
  validatorUrl: string;
  executionProvider: ExecutionProviderChoice;
  gpuDeviceId: string;
  maxBatchTokens: string;
  modelDir: string;
  maxGpuTempC: string;
  maxGpuPowerW: string;
  modelManifestUrl: string;
  wandbEnabled: boolean;
  wandbProject: string;
};

const optionalNumber = (text: string) => (text.trim() === '' ? null : Number(text));

function toDraft(s: Settings): Draft {
  return {
    network: s.network ?? '',
    validatorUrl: s.validatorUrl ?? '',
    executionProvider: s.executionProvider,
    gpuDeviceId: String(s.gpuDeviceId),
    maxBatchTokens: String(s.maxBatchTokens),
    modelDir: s.modelDir ?? '',
    maxGpuTempC: s.maxGpuTempC === null ? '' : String(s.maxGpuTempC),
    maxGpuPowerW: s.maxGpuPowerW === null ? '' : String(s.maxGpuPowerW),
    modelManifestUrl: s.modelManifestUrl ?? '',
    wandbEnabled: s.wandbEnabled,
    wandbProject: s.wandbProject ?? '',
  };
}

/** Validate in the view for instant messages; main validates again and has the last word. */
function fromDraft(d: Draft, current: Settings): { settings: Settings } | { errors: Partial<Record<keyof Draft, string>> } {
  const candidate = {
    ...current,
    network: d.network || null,
    validatorUrl: d.validatorUrl.trim() || null,
    executionProvider: d.executionProvider,
    gpuDeviceId: Number(d.gpuDeviceId),
    maxBatchTokens: Number(d.maxBatchTokens),
    modelDir: d.modelDir.trim() || null,
    maxGpuTempC: optionalNumber(d.maxGpuTempC),
    maxGpuPowerW: optionalNumber(d.maxGpuPowerW),
    modelManifestUrl: d.modelManifestUrl.trim() || null,
    wandbEnabled: d.wandbEnabled,
    wandbProject: d.wandbProject.trim() || null,
  };
  const parsed = Settings.safeParse(candidate);
  if (parsed.success) return { settings: parsed.data };
  const errors: Partial<Record<keyof Draft, string>> = {};
  for (const issue of parsed.error.issues) {
    const key = issue.path[0] as keyof Draft;
    errors[key] ??=
      key === 'validatorUrl'
        ? "Enter a full URL such as https://validator.example.org, or leave empty for the network's validator."
        : key === 'maxBatchTokens'
          ? 'A whole number from 64 to 65536.'
          : key === 'gpuDeviceId'
            ? 'A GPU index from 0 to 15.'
            : key === 'maxGpuTempC'
              ? 'Whole degrees from 40 to 100 °C, or empty for no limit.'
              : key === 'maxGpuPowerW'
                ? 'Whole watts from 20 to 1000 W, or empty for no limit.'
                : key === 'modelManifestUrl'
                  ? 'Enter a full URL of a model manifest (JSON), or leave empty.'
                  : issue.message;
  }
  return { errors };
}

export function SettingsPage() {
  const current = useStore((s) => s.snapshot!.settings);
  const dataDir = useStore((s) => s.snapshot!.dataDir);
  const bridge = useBridge();
  const networks = useInvoke('network:list', {}, undefined);
  const [draft, setDraft] = useState<Draft>(() => toDraft(current));
  const [errors, setErrors] = useState<Partial<Record<keyof Draft, string>>>({});
  const [message, setMessage] = useState<{ tone: 'ok' | 'error'; text: string } | null>(null);

  function field<K extends keyof Draft>(key: K, value: Draft[K]): void {
    setDraft({ ...draft, [key]: value });
    setMessage(null);
  }

  async function save(event: FormEvent): Promise<void> {
    event.preventDefault();
    const result = fromDraft(draft, current);
    if ('errors' in result) {
      setErrors(result.errors);
      return;
    }
    setErrors({});
    const saved = await bridge.invoke('settings:update', { patch: result.settings });
    if (saved.ok) {
      setDraft(toDraft(saved.value));
      setMessage({ tone: 'ok', text: 'Saved.' });
    } else {
      setMessage({ tone: 'error', text: saved.error.message });
    }
  }

  const describe = (key: keyof Draft) => (errors[key] ? `${key}-error` : undefined);

  return (
    <section aria-labelledby="settings-title" className="page">
      <h1 id="settings-title">Settings</h1>
      <form className="form" onSubmit={(e) => void save(e)} noValidate>
        <label htmlFor="network">Network</label>
        <select id="network" value={draft.network} onChange={(e) => field('network', e.target.value)}>
          <option value="">This build&apos;s default{networks.value ? ` (${networks.value.defaultNetwork})` : ''}</option>
          {networks.value?.networks.map((n) => (
            <option key={n.name} value={n.name}>
              {n.label}
            </option>
          ))}
        </select>

        <label htmlFor="validatorUrl">Validator URL</label>
        <input
          id="validatorUrl"
          value={draft.validatorUrl}
          placeholder="empty: the network's validator"
          aria-invalid={!!errors.validatorUrl}
          aria-describedby={describe('validatorUrl')}
          onChange={(e) => field('validatorUrl', e.target.value)}
        />
        {errors.validatorUrl && (
          <p id="validatorUrl-error" className="field-error">
            {errors.validatorUrl}
          </p>
        )}

        <label htmlFor="executionProvider">Run the teacher on</label>
        <select
          id="executionProvider"
          value={draft.executionProvider}
          onChange={(e) => field('executionProvider', e.target.value as ExecutionProviderChoice)}
        >
          <option value="auto">Best available</option>
          <option value="cuda">NVIDIA CUDA (Linux)</option>
          <option value="dml">DirectML (Windows)</option>
          <option value="cpu">CPU only</option>
        </select>

        <label htmlFor="gpuDeviceId">GPU index</label>
        <input
          id="gpuDeviceId"
          inputMode="numeric"
          value={draft.gpuDeviceId}
          aria-invalid={!!errors.gpuDeviceId}
          aria-describedby={describe('gpuDeviceId')}
          onChange={(e) => field('gpuDeviceId', e.target.value)}
        />
        {errors.gpuDeviceId && (
          <p id="gpuDeviceId-error" className="field-error">
            {errors.gpuDeviceId}
          </p>
        )}

        <label htmlFor="maxBatchTokens">Tokens per batch (upper limit)</label>
        <input
          id="maxBatchTokens"
          inputMode="numeric"
          value={draft.maxBatchTokens}
          aria-invalid={!!errors.maxBatchTokens}
          aria-describedby={describe('maxBatchTokens')}
          onChange={(e) => field('maxBatchTokens', e.target.value)}
        />
        {errors.maxBatchTokens && (
          <p id="maxBatchTokens-error" className="field-error">
            {errors.maxBatchTokens}
          </p>
        )}

        <label htmlFor="maxGpuTempC">Keep the GPU under (°C)</label>
        <input
          id="maxGpuTempC"
          inputMode="numeric"
          value={draft.maxGpuTempC}
          placeholder="no limit"
          aria-invalid={!!errors.maxGpuTempC}
          aria-describedby={describe('maxGpuTempC')}
          onChange={(e) => field('maxGpuTempC', e.target.value)}
        />
        {errors.maxGpuTempC && (
          <p id="maxGpuTempC-error" className="field-error">
            {errors.maxGpuTempC}
          </p>
        )}

        <label htmlFor="maxGpuPowerW">Keep the GPU under (W)</label>
        <input
          id="maxGpuPowerW"
          inputMode="numeric"
          value={draft.maxGpuPowerW}
          placeholder="no limit"
          aria-invalid={!!errors.maxGpuPowerW}
          aria-describedby={describe('maxGpuPowerW')}
          onChange={(e) => field('maxGpuPowerW', e.target.value)}
        />
        {errors.maxGpuPowerW && (
          <p id="maxGpuPowerW-error" className="field-error">
            {errors.maxGpuPowerW}
          </p>
        )}

        <label htmlFor="modelDir">Model folder</label>
        <input
          id="modelDir"
          value={draft.modelDir}
          placeholder="empty: the validator's teacher (the demo model locally)"
          onChange={(e) => field('modelDir', e.target.value)}
        />

        <label htmlFor="modelManifestUrl">Model manifest URL</label>
        <input
          id="modelManifestUrl"
          value={draft.modelManifestUrl}
          placeholder="where model downloads come from"
          aria-invalid={!!errors.modelManifestUrl}
          aria-describedby={describe('modelManifestUrl')}
          onChange={(e) => field('modelManifestUrl', e.target.value)}
        />
        {errors.modelManifestUrl && (
          <p id="modelManifestUrl-error" className="field-error">
            {errors.modelManifestUrl}
          </p>
        )}

        <label htmlFor="wandbEnabled">Weights &amp; Biases</label>
        <span>
          <input id="wandbEnabled" type="checkbox" checked={draft.wandbEnabled} onChange={(e) => field('wandbEnabled', e.target.checked)} />{' '}
          send these figures to W&amp;B (API key from <code>NYA_WANDB_API_KEY</code>; off by default)
        </span>

        <label htmlFor="wandbProject">W&amp;B project</label>
        <input
          id="wandbProject"
          value={draft.wandbProject}
          placeholder="nya-miner"
          disabled={!draft.wandbEnabled}
          onChange={(e) => field('wandbProject', e.target.value)}
        />

        <span className="form-label">Data folder</span>
        <span className="mono" data-testid="data-dir" title="Chosen when the miner starts (nya mine --data-dir, or the app's own folder)">
          {dataDir}
        </span>

        <div className="form-actions">
          <button type="submit" className="primary">
            Save
          </button>
          {message && (
            <span role="status" className={message.tone === 'error' ? 'error-text' : 'ok-text'}>
              {message.text}
            </span>
          )}
        </div>
      </form>
      <ModelPanel />
      <DiagnosticsExport />
    </section>
  );
}
