import { Counter, Gauge, Registry } from 'prom-client';
import type { StateSnapshot } from '../../src-shared/state';
import { snapshotFigures, type Figure } from './figures';

/**
 * The `GET /metrics` body in Prometheus text format. A fresh Registry per scrape (never
 * prom-client's global one): the snapshot holds every value, so there is no state to keep
 * between scrapes and nothing leaks between two servers in one process (tests, embedded mode).
 */
export async function renderMetrics(snapshot: StateSnapshot): Promise<string> {
  const registry = new Registry();
  const byName = new Map<string, Figure[]>();
  for (const figure of snapshotFigures(snapshot)) {
    byName.set(figure.name, [...(byName.get(figure.name) ?? []), figure]);
  }
  for (const [name, figures] of byName) {
    const { help, type, labels } = figures[0]!;
    const options = { name, help, labelNames: Object.keys(labels), registers: [registry] };
    if (type === 'counter') {
      const counter = new Counter(options);
      for (const figure of figures) counter.inc(figure.labels, figure.value);
    } else {
      const gauge = new Gauge(options);
      for (const figure of figures) gauge.set(figure.labels, figure.value);
    }
  }
  return registry.metrics();
}

export const PROMETHEUS_CONTENT_TYPE = new Registry().contentType;
