/**
 * Time-weighted average of a step function (e.g. queue depth) over the last `windowMs`: each value
 * counts for as long as it held, so a scrape sees load even when batches last milliseconds. Pure
 * apart from the injected clock; memory is bounded by the changes inside one window.
 */
export class TimeAverage {
  /** Change points (time, value), oldest first; the first one may start before the window. */
  private readonly points: { t: number; v: number }[];

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = () => performance.now(),
    initial = 0,
  ) {
    this.points = [{ t: this.now() - windowMs, v: initial }];
  }

  /** The function takes value `v` from now on. */
  set(v: number): void {
    const t = this.now();
    const last = this.points[this.points.length - 1];
    if (last.t === t) last.v = v;
    else if (last.v !== v) this.points.push({ t, v });
    this.prune(t);
  }

  /** The current (instantaneous) value. */
  current(): number {
    return this.points[this.points.length - 1].v;
  }

  /** Average over [now − windowMs, now]. */
  average(): number {
    const now = this.now();
    this.prune(now);
    const start = now - this.windowMs;
    let area = 0;
    for (let i = 0; i < this.points.length; i++) {
      const from = Math.max(this.points[i].t, start);
      const to = i + 1 < this.points.length ? this.points[i + 1].t : now;
      if (to > from) area += this.points[i].v * (to - from);
    }
    return this.windowMs > 0 ? area / this.windowMs : this.current();
  }

  /** Drops change points that ended before the window; keeps the one in force at its start. */
  private prune(now: number): void {
    const start = now - this.windowMs;
    let drop = 0;
    while (drop + 1 < this.points.length && this.points[drop + 1].t <= start) drop++;
    if (drop > 0) this.points.splice(0, drop);
  }
}
