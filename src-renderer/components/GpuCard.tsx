import type { GpuTelemetry } from '../../src-shared/state';
import { formatUnit } from '../format';

export function GpuCard({ gpu }: { gpu: GpuTelemetry }) {
  const vram =
    gpu.memoryUsedMiB !== null && gpu.memoryTotalMiB !== null
      ? `${(gpu.memoryUsedMiB / 1024).toFixed(1)} / ${(gpu.memoryTotalMiB / 1024).toFixed(1)} GiB`
      : '—';
  const power =
    gpu.powerW !== null ? `${gpu.powerW.toFixed(0)}${gpu.powerLimitW !== null ? ` / ${gpu.powerLimitW.toFixed(0)}` : ''} W` : '—';
  return (
    <article className="card gpu-card" aria-label={`GPU ${gpu.index}: ${gpu.name}`} data-testid="gpu-card">
      <h3>
        GPU {gpu.index} · {gpu.name}
      </h3>
      <dl className="kv">
        <dt>Load</dt>
        <dd>{formatUnit(gpu.utilizationPct, '%')}</dd>
        <dt>VRAM</dt>
        <dd>{vram}</dd>
        <dt>Temperature</dt>
        <dd>{formatUnit(gpu.tempC, '°C')}</dd>
        <dt>Power</dt>
        <dd>{power}</dd>
        <dt>Fan</dt>
        <dd>{formatUnit(gpu.fanPct, '%')}</dd>
        <dt>Clocks</dt>
        <dd>
          {gpu.smClockMHz !== null ? `${gpu.smClockMHz} MHz` : '—'}
          {gpu.memClockMHz !== null ? ` · mem ${gpu.memClockMHz} MHz` : ''}
        </dd>
        <dt>Driver</dt>
        <dd>{gpu.driver ?? '—'}</dd>
      </dl>
    </article>
  );
}
