import type { ProcessUsage, StateSnapshot } from '../../src-shared/state';

const MIB = 1024 * 1024;

function usageText(u: ProcessUsage | null): string {
  if (!u) return 'not running';
  const cpu = u.cpuPct === null ? '—' : `${u.cpuPct.toFixed(0)} %`;
  return `CPU ${cpu} · ${(u.rssBytes / MIB).toFixed(0)} MiB (peak ${(u.maxRssBytes / MIB).toFixed(0)} MiB)`;
}

/** What mining costs when the teacher runs on the CPU: the card a CPU miner gets instead of a GPU's. */
export function CpuCard({ resources }: { resources: StateSnapshot['resources'] }) {
  return (
    <article className="card gpu-card" aria-label="CPU and memory" data-testid="cpu-card">
      <h3>CPU · {resources.cores} cores</h3>
      <dl className="kv">
        <dt>Teacher</dt>
        <dd>{usageText(resources.teacher)}</dd>
        {resources.recomputeTeacher && (
          <>
            <dt>Local validator&apos;s teacher</dt>
            <dd>{usageText(resources.recomputeTeacher)}</dd>
          </>
        )}
        <dt>App</dt>
        <dd>{usageText(resources.app)}</dd>
      </dl>
    </article>
  );
}
