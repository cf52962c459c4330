const SECOND_MS = 1000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/** Tick spacings a person reads at a glance: whole seconds (a chart's first minute), minutes, hours, days. */
const STEPS_MS = [
  ...[5, 10, 15, 30].map((n) => n * SECOND_MS),
  ...[1, 2, 5, 10, 15, 30].map((n) => n * MINUTE_MS),
  ...[1, 2, 3, 6, 12].map((n) => n * HOUR_MS),
  ...[1, 2, 7].map((n) => n * DAY_MS),
];

/**
 * Time-axis ticks for the visible range: the smallest whole spacing that gives at most `maxTicks`,
 * on its multiples. Labels are times or dates, as fine as the spacing, so no two ticks
 * read the same (recharts' own ticks fell within one minute: "12:41 PM, 12:41 PM").
 */
export function timeTicks(fromMs: number, toMs: number, maxTicks = 6): { ticks: number[]; label: (t: number) => string } {
  const spanMs = Math.max(toMs - fromMs, 1);
  const stepMs = STEPS_MS.find((s) => spanMs / s <= maxTicks) ?? STEPS_MS.at(-1)!;
  const ticks: number[] = [];
  for (let t = Math.ceil(fromMs / stepMs) * stepMs; t <= toMs; t += stepMs) ticks.push(t);
  return { ticks, label: timeLabel(stepMs) };
}

/** Dates where a step (a tick's spacing, a bar's period) is a day or longer, clock times (with seconds under a minute) where shorter. */
export function timeLabel(stepMs: number): (t: number) => string {
  return (t) => {
    const d = new Date(t);
    if (stepMs >= DAY_MS) return d.toLocaleDateString([], { month: 'short', day: 'numeric' });
    return d.toLocaleTimeString([], { hour: 'numeric', minute: '2-digit', ...(stepMs < MINUTE_MS ? { second: '2-digit' } : {}) });
  };
}
