import { useState } from 'react';
import type { HistoryRange } from '../../src-shared/ipc';
import { NANO_PER_COMAI } from '../../src-shared/state';
import { useBridge } from '../bridge-context';
import { EarningsStats, paysNoOne } from '../components/EarningsStats';
import { Empty } from '../components/Empty';
import { CpuCard } from '../components/CpuCard';
import { GpuCard } from '../components/GpuCard';
import { HistoryChart } from '../components/HistoryChart';
import { ProgressBar } from '../components/ProgressBar';
import { Stat, TokensStat } from '../components/Stat';
import { StatusLine } from '../components/StatusLine';
import { formatDuration, formatRate, formatTokens, plural } from '../format';
import { useStore } from '../store';

const HOUR_MS = 3_600_000;

export function DashboardPage() {
  const snapshot = useStore((s) => s.snapshot)!;
  const bridge = useBridge();
  const [range, setRange] = useState<HistoryRange>('10m');
  const [actionError, setActionError] = useState<string | null>(null);
  const { miner, task, tokens, teacher, validator, gpu, earnings } = snapshot;
  const paused = miner.userPaused;
  const local = paysNoOne(validator);

  async function togglePause(): Promise<void> {
    const result = await bridge.invoke('miner:set-paused', { paused: !paused });
    setActionError(result.ok ? null : result.error.message);
  }

  return (
    <section aria-labelledby="dashboard-title" className="page">
      <header className="page-header">
        <h1 id="dashboard-title">Dashboard</h1>
        <button type="button" className="primary" onClick={() => void togglePause()} data-testid="pause-button">
          {paused ? 'Resume mining' : 'Pause mining'}
        </button>
      </header>
      {actionError && <Empty tone="error">{actionError}</Empty>}
      <StatusLine miner={miner} task={task} />
      {teacher.isDemo && (
        <p className="notice" role="note">
          Running the bundled demo model: its labels show the pipeline working, they are not real teacher output and a real validator does
          not pay for them.
        </p>
      )}

      <div className="card task-card" data-testid="task">
        <h2>Current task</h2>
        {task ? (
          <>
            <div className="task-line">
              <span className="mono">{task.taskId}</span>
              <span>
                {plural(task.documents, 'document')} ·{' '}
                {task.tokensTotal > 0 ? `${formatTokens(task.tokensDone)} of ${formatTokens(task.tokensTotal)}` : 'tokenizing…'}
              </span>
              <span>{task.etaAtMs !== null ? `about ${formatDuration(task.etaAtMs - snapshot.atMs)} left` : 'estimating…'}</span>
            </div>
            <ProgressBar done={task.tokensDone} total={task.tokensTotal} label="Task progress" />
          </>
        ) : (
          <Empty>No task running.</Empty>
        )}
      </div>

      <div className="stats">
        <Stat label="Speed now" value={formatRate(snapshot.tokensPerS)} testId="tokens-per-s" />
        <TokensStat label="Today" tokens={tokens.today} testId="tokens-today" />
        <TokensStat
          label="Computed in total"
          tokens={tokens.computed}
          testId="tokens-computed"
          hint={plural(tokens.tasksCompleted, 'task')}
        />
        <TokensStat label="Pending validation" tokens={tokens.pending} testId="tokens-pending" />
        <TokensStat
          label="Validated"
          tokens={tokens.validated}
          testId="tokens-validated"
          hint={tokens.rejected ? `${formatTokens(tokens.rejected)} rejected` : undefined}
        />
      </div>
      <EarningsStats earnings={earnings} local={local} />

      <div className="two-col">
        <div className="card">
          <h2>Teacher</h2>
          <dl className="kv">
            <dt>Model</dt>
            <dd>{teacher.modelName ?? '—'}</dd>
            <dt>State</dt>
            <dd>{teacher.error ? <span className="error-text">{teacher.error}</span> : teacher.state}</dd>
            <dt>Runs on</dt>
            <dd>{teacher.executionProvider ?? '—'}</dd>
            <dt>Why</dt>
            <dd>{teacher.providerReason ?? '—'}</dd>
          </dl>
        </div>
        <div className="card">
          <h2>Validator</h2>
          <dl className="kv">
            <dt>Validator</dt>
            <dd>{validator.mode === 'embedded' ? 'Local (embedded)' : validator.url}</dd>
            <dt>Connection</dt>
            <dd data-testid="validator-connection">{validator.connection}</dd>
            <dt>Results waiting to send</dt>
            <dd>{validator.outboxPending}</dd>
            {validator.lastError && (
              <>
                <dt>Last error</dt>
                <dd className="error-text">{validator.lastError}</dd>
              </>
            )}
          </dl>
        </div>
      </div>

      <h2>GPUs</h2>
      {teacher.executionProvider === 'CPU' && (
        <div className="gpu-grid">
          <CpuCard resources={snapshot.resources} />
        </div>
      )}
      {gpu.status === 'ok' && gpu.gpus.length > 0 ? (
        <div className="gpu-grid">
          {gpu.gpus.map((g) => (
            <GpuCard key={g.index} gpu={g} />
          ))}
        </div>
      ) : (
        <Empty tone={gpu.status === 'error' ? 'error' : 'muted'}>
          {gpu.status === 'none'
            ? 'No GPU found: the teacher runs on the CPU.'
            : gpu.status === 'error'
              ? `GPU telemetry failed${gpu.source ? ` (${gpu.source})` : ''}.`
              : 'Looking for GPUs…'}
        </Empty>
      )}

      <div className="page-header">
        <h2>History</h2>
        <div className="segmented" role="group" aria-label="Chart range">
          {(['10m', '24h'] as const).map((r) => (
            <button key={r} type="button" aria-pressed={range === r} onClick={() => setRange(r)}>
              {r === '10m' ? '10 minutes' : '24 hours'}
            </button>
          ))}
        </div>
      </div>
      <div className="charts">
        <HistoryChart title="GPU load (%)" range={range} metric="gpuLoadPct" unit="%" />
        <HistoryChart title="Tokens per second" range={range} metric="tokensPerS" unit="tok/s" />
        <HistoryChart
          title={`Earnings per hour (COMAI${local ? ', local test' : ''})`}
          range="30d"
          metric="earnedNano"
          scale={1 / NANO_PER_COMAI}
          unit="COMAI"
          kind="increments"
          periodMs={HOUR_MS}
          sinceMs={snapshot.atMs - 24 * HOUR_MS}
        />
        <HistoryChart
          title={`Earnings per day (COMAI${local ? ', local test' : ''})`}
          range="30d"
          metric="earnedNano"
          scale={1 / NANO_PER_COMAI}
          unit="COMAI"
          kind="increments"
          periodMs={24 * HOUR_MS}
          sinceMs={snapshot.atMs - 30 * 24 * HOUR_MS}
        />
      </div>
    </section>
  );
}
