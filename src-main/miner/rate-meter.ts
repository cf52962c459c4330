/**
 * Tokens per second over the last `windowMs`, from the work as it was done: each `add` says how
 * many tokens were labelled between two instants, and those tokens are spread over that span.
 * A count is never squeezed into the moment it was reported (that read ~4× the true speed right
 * after a pause or at a task's start, when the first report of a batch was the oldest one still in
 * the window), and a rate with no recent work falls to 0 as the window empties.
 */
export class RateMeter {
  private readonly spans: { fromMs: number; toMs: number; count: number }[] = [];
  /** Start of the oldest span kept: before it nothing was measured, so it does not dilute the rate. */
  private measuredSinceMs: number | null = null;

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number,
  ) {}

  /** `count` tokens labelled from `fromMs` until now. */
  add(count: number, fromMs: number): void {
    const toMs = this.now();
    if (count <= 0) return;
    const from = Math.min(fromMs, toMs);
    this.spans.push({ fromMs: from, toMs, count });
    this.measuredSinceMs = Math.min(this.measuredSinceMs ?? from, from);
    this.trim();
  }

  perSecond(): number {
    this.trim();
    const nowMs = this.now();
    const windowStartMs = Math.max(nowMs - this.windowMs, this.measuredSinceMs ?? nowMs);
    const elapsedMs = nowMs - windowStartMs;
    if (this.spans.length === 0 || elapsedMs <= 0) return 0;
    let tokens = 0;
    for (const s of this.spans) {
      const overlapMs = Math.min(s.toMs, nowMs) - Math.max(s.fromMs, windowStartMs);
      const lengthMs = s.toMs - s.fromMs;
      tokens += lengthMs > 0 ? (s.count * Math.max(0, overlapMs)) / lengthMs : s.toMs >= windowStartMs ? s.count : 0;
    }
    return (tokens * 1000) / elapsedMs;
  }

  private trim(): void {
    const cutoff = this.now() - this.windowMs;
    while (this.spans.length > 0 && this.spans[0]!.toMs < cutoff) this.spans.shift();
    if (this.spans.length === 0) this.measuredSinceMs = null;
  }
}
