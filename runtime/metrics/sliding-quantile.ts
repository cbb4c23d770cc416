/**
 * Quantiles of the observations made during the last `windowMs` (e.g. request latency p95 over
 * 60 s for the HPA). Exact: keeps each observation until it leaves the window, up to `capacity`
 * (the oldest go first beyond that), and sorts on read — reads are scrapes, seconds apart.
 */
export class SlidingQuantile {
  private times: number[] = [];
  private values: number[] = [];
  private head = 0;

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = () => performance.now(),
    private readonly capacity = 200_000,
  ) {}

  observe(v: number): void {
    this.times.push(this.now());
    this.values.push(v);
    if (this.times.length - this.head > this.capacity) this.head++;
    this.compact();
  }

  /** Observations inside the window. */
  count(): number {
    this.prune();
    return this.times.length - this.head;
  }

  /** The q-quantile (nearest rank) of the observations in the window; 0 when there are none. */
  quantile(q: number): number {
    this.prune();
    const live = this.values.slice(this.head).sort((a, b) => a - b);
    if (live.length === 0) return 0;
    const rank = Math.min(live.length, Math.max(1, Math.ceil(q * live.length)));
    return live[rank - 1];
  }

  private prune(): void {
    const start = this.now() - this.windowMs;
    while (this.head < this.times.length && this.times[this.head] < start) this.head++;
    this.compact();
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.values = this.values.slice(this.head);
      this.head = 0;
    }
  }
}
