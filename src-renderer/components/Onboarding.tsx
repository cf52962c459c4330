import { useState } from 'react';
import { useBridge } from '../bridge-context';
import { useStore } from '../store';
import { NetworkChoice } from './NetworkChoice';
import { TeacherStep } from './TeacherStep';

const STEPS = ['Network', 'Your GPU', 'Teacher model', 'Wallet', 'Start mining'] as const;

/**
 * The first-run guide: which network, what the miner found, the teacher it gets, where earnings go, then mining.
 * Every step shows what main reports; finishing or skipping is remembered in the settings.
 */
export function Onboarding() {
  const bridge = useBridge();
  const snapshot = useStore((s) => s.snapshot!);
  const [step, setStep] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const { gpu, teacher, wallet } = snapshot;

  async function finish(startMining: boolean): Promise<void> {
    if (startMining && snapshot.miner.userPaused) {
      const resumed = await bridge.invoke('miner:set-paused', { paused: false });
      if (!resumed.ok) return setError(resumed.error.message);
    }
    const saved = await bridge.invoke('settings:update', { patch: { onboardingDone: true } });
    if (!saved.ok) setError(saved.error.message);
  }

  return (
    <div className="overlay" role="dialog" aria-modal="true" aria-labelledby="onboarding-title" data-testid="onboarding">
      <div className="card onboarding">
        <h1 id="onboarding-title">Welcome to Nya Miner</h1>
        <ol className="steps" aria-label="Steps">
          {STEPS.map((name, i) => (
            <li key={name} aria-current={i === step ? 'step' : undefined} className={i === step ? 'active' : undefined}>
              {name}
            </li>
          ))}
        </ol>
        {step === 0 && <NetworkChoice />}
        {step === 1 && (
          <div>
            {gpu.status === 'ok' ? (
              <ul>
                {gpu.gpus.map((g) => (
                  <li key={g.index}>
                    {g.name}
                    {g.memoryTotalMiB !== null ? `, ${(g.memoryTotalMiB / 1024).toFixed(0)} GB` : ''}
                    {g.driver ? ` (driver ${g.driver})` : ''}
                  </li>
                ))}
              </ul>
            ) : (
              <p>
                {gpu.status === 'none'
                  ? 'No GPU was found: the teacher will run on the CPU, slowly.'
                  : gpu.status === 'error'
                    ? 'Reading the GPU failed; see the Logs page.'
                    : 'Looking for GPUs…'}
              </p>
            )}
            <p className="muted">
              The teacher runs on {teacher.executionProvider ?? '…'}
              {teacher.providerReason ? `: ${teacher.providerReason}` : ''}.
            </p>
          </div>
        )}
        {step === 2 && <TeacherStep />}
        {step === 3 && (
          <div>
            <p>
              Mining address: <span className="mono">{wallet.miningAddress ?? 'none yet'}</span>
            </p>
            <p className="muted">
              Earnings are credited to your mining key. Create or import it, and link a payout address, on the Wallet page (headless:{' '}
              <code>nya wallet create</code>). The local demo validator pays nothing, so this can wait.
            </p>
          </div>
        )}
        {step === 4 && (
          <p>
            {snapshot.validator.mode === 'embedded'
              ? 'You are set up with the bundled demo model and the local validator: mining shows the whole pipeline working.'
              : teacher.state === 'ready' && !teacher.isDemo
                ? 'Ready to mine with the real teacher.'
                : 'Mining starts by itself as soon as the teacher is here.'}{' '}
            The miner pauses for games and when you need the PC, and resumes on its own.
          </p>
        )}
        {error && (
          <p className="error-text" role="alert">
            {error}
          </p>
        )}
        <div className="form-actions">
          <button type="button" onClick={() => void finish(false)}>
            Skip the guide
          </button>
          {step > 0 && (
            <button type="button" onClick={() => setStep(step - 1)}>
              Back
            </button>
          )}
          {step < STEPS.length - 1 ? (
            <button type="button" className="primary" onClick={() => setStep(step + 1)}>
              Next
            </button>
          ) : (
            <button type="button" className="primary" onClick={() => void finish(true)}>
              Start mining
            </button>
          )}
        </div>
      </div>
    </div>
  );
}
