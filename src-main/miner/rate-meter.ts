/** Tokens per second over a sliding window, from increments as they happen. */
export class RateMeter {
  private readonly events: { atMs: number; count: number }[] = [];

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number,
  ) {}

  add(count: number): void {
    if (count <= 0) return;
    this.events.push({ atMs: this.now(), count });
    this.trim();
  }

  perSecond(): number {
    this.trim();
    if (this.events.length === 0) return 0;
    const first = this.events[0]!.atMs;
    const span = Math.max(1000, this.now() - first);
    const total = this.events.reduce((sum, e) => sum + e.count, 0);
    return (total * 1000) / span;
  }

  private trim(): void {
    const cutoff = this.now() - this.windowMs;
    while (this.events.length > 0 && this.events[0]!.atMs < cutoff) this.events.shift();
  }
}
