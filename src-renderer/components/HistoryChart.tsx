import { Area, AreaChart, Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { HistoryMetric, HistoryRange, HistorySeries } from '../../src-shared/ipc';
import { useInvoke } from '../hooks/use-invoke';
import { Empty } from './Empty';
import { timeLabel, timeTicks } from './time-ticks';

const REFRESH_MS: Record<HistoryRange, number> = { '10m': 2_000, '24h': 60_000, '30d': 600_000 };

function rows(data: HistorySeries, metric: HistoryMetric, scale: number): { t: number; v: number | null }[] {
  const values = data.series[metric];
  return data.tMs.map((t, i) => {
    const v = values[i] ?? null;
    return { t, v: v === null ? null : v * scale };
  });
}

/**
 * Increase of a cumulative series per `periodMs` (earnings per hour, per day), from `sinceMs` on:
 * the last value seen in each period minus the last value before it. Every period chart reads the
 * same hourly series, so a day's bar is the sum of its hours' bars. Points before `sinceMs` are the
 * baseline; a history that begins after it began with this miner, so its baseline is 0 and the
 * first earnings count in the period they appeared (not lost as "what came before the window").
 */
export function increments(
  data: HistorySeries,
  metric: HistoryMetric,
  periodMs: number,
  scale: number,
  sinceMs = -Infinity,
): { t: number; v: number | null }[] {
  const values = data.series[metric];
  const lastByPeriod = new Map<number, number>();
  let previous = 0;
  data.tMs.forEach((t, i) => {
    const v = values[i];
    if (v === null || v === undefined) return;
    if (t < sinceMs) previous = v;
    else lastByPeriod.set(Math.floor(t / periodMs) * periodMs, v);
  });
  return [...lastByPeriod.keys()]
    .sort((a, b) => a - b)
    .map((t) => {
      const v = lastByPeriod.get(t)!;
      const delta = Math.max(0, v - previous);
      previous = v;
      return { t, v: delta * scale };
    });
}

export function HistoryChart({
  title,
  range,
  metric,
  unit,
  kind = 'area',
  periodMs = 3_600_000,
  sinceMs,
  scale = 1,
}: {
  title: string;
  range: HistoryRange;
  metric: HistoryMetric;
  unit: string;
  kind?: 'area' | 'increments';
  /** For `increments`: the period each bar covers. */
  periodMs?: number;
  /** For `increments`: the first period shown; earlier points are only the baseline. */
  sinceMs?: number;
  /** Multiplies the series for display (nano-COMAI → COMAI). */
  scale?: number;
}) {
  const { value, error } = useInvoke('history:get', { range }, REFRESH_MS[range]);
  const data = value ? (kind === 'area' ? rows(value, metric, scale) : increments(value, metric, periodMs, scale, sinceMs)) : [];
  const hasData = data.some((d) => d.v !== null);
  const axis = timeTicks(data[0]?.t ?? 0, data.at(-1)?.t ?? 0);
  return (
    <figure className="chart" aria-label={title} data-testid={`chart-${metric}-${range}`}>
      <figcaption>{title}</figcaption>
      {error && !value ? (
        <Empty tone="error">Could not load the history: {error.message}</Empty>
      ) : !hasData ? (
        <Empty>{value ? 'No data for this period yet.' : 'Loading…'}</Empty>
      ) : (
        <ResponsiveContainer width="100%" height={160}>
          {kind === 'area' ? (
            <AreaChart data={data} margin={{ top: 4, right: 8, bottom: 0, left: 0 }}>
              <CartesianGrid strokeDasharray="3 3" className="grid" />
              <XAxis dataKey="t" type="number" domain={['dataMin', 'dataMax']} ticks={axis.ticks} tickFormatter={axis.label} interval={0} />
              <YAxis width={48} />
              <Tooltip
                labelFormatter={(t) => new Date(Number(t)).toLocaleString()}
                formatter={(v) => [`${Number(v).toFixed(1)} ${unit}`, title]}
              />
              <Area
                dataKey="v"
                type="monotone"
                isAnimationActive={false}
                connectNulls={false}
                fill="#8b6cf6"
                fillOpacity={0.35}
                stroke="#6b4ce6"
              />
            </AreaChart>
          ) : (
            <BarChart data={data} margin={{ top: 4, right: 8, bottom: 0, left: 0 }}>
              <CartesianGrid strokeDasharray="3 3" className="grid" />
              <XAxis dataKey="t" tickFormatter={timeLabel(periodMs)} minTickGap={40} />
              <YAxis width={64} />
              <Tooltip
                labelFormatter={(t) => new Date(Number(t)).toLocaleString()}
                formatter={(v) => [`${Number(v).toFixed(6)} ${unit}`, title]}
              />
              <Bar dataKey="v" isAnimationActive={false} fill="#8b6cf6" maxBarSize={48} />
            </BarChart>
          )}
        </ResponsiveContainer>
      )}
    </figure>
  );
}
