// local aliases: hot loops run much faster without a global lookup (notably under jest's vm)
const { floor, max, min } = Math;
/**
 * Quantiles by histogram: O(n), no sort, exact to 1/BINS of the range, which is finer than the
 * 8-bit input the values came from.
 */
const BINS = 2048;

export class Histogram {
  private readonly counts = new Float64Array(BINS);
  private total = 0;

  constructor(
    private readonly lo: number,
    private readonly hi: number,
  ) {}

  add(value: number): void {
    const t = (value - this.lo) / (this.hi - this.lo);
    const bin = t <= 0 ? 0 : t >= 1 ? BINS - 1 : floor(t * BINS);
    this.counts[bin] += 1;
    this.total += 1;
  }

  get count(): number {
    return this.total;
  }

  /** The value below which a share `q` (0..1) of the added values lie (bin centre). */
  quantile(q: number): number {
    if (this.total === 0) return this.lo;
    const target = q * this.total;
    let seen = 0;
    for (let bin = 0; bin < BINS; bin++) {
      seen += this.counts[bin];
      if (seen >= target && this.counts[bin] > 0) return this.lo + ((bin + 0.5) / BINS) * (this.hi - this.lo);
    }
    return this.hi;
  }

  /** Histogram of the values above `threshold` only. */
  above(threshold: number): Histogram {
    const out = new Histogram(this.lo, this.hi);
    const t = (threshold - this.lo) / (this.hi - this.lo);
    const first = max(0, min(BINS, floor(t * BINS) + 1));
    for (let bin = first; bin < BINS; bin++) {
      out.counts[bin] = this.counts[bin];
      out.total += this.counts[bin];
    }
    return out;
  }
}

/** Median of a small array (copied, sorted). */
export function median(values: ArrayLike<number>): number {
  if (values.length === 0) return 0;
  const sorted = Float64Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
