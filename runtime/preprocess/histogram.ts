// local aliases: hot loops run much faster without a global lookup (notably under jest's vm)
const { abs, floor, max, min } = Math;
/**
 * Quantiles by histogram: O(n), no sort, exact to 1/BINS of the range, which is finer than the
 * 8-bit input the values came from.
 */
const BINS = 2048;
/** Below this many values the bulk adds go one by one: the extra tallies would cost more than they save. */
const SMALL = 4 * BINS;

export class Histogram {
  private readonly counts = new Float64Array(BINS);
  private total = 0;

  constructor(
    private readonly lo: number,
    private readonly hi: number,
  ) {}

  add(value: number): void {
    this.counts[this.bin(value)] += 1;
    this.total += 1;
  }

  /** Adds every value (the same bins as `add`, in one tight loop). */
  addAll(values: ArrayLike<number>): this {
    const n = values.length;
    const scale = n < SMALL ? 0 : this.exactScale();
    if (scale === 0) {
      for (let i = 0; i < n; i++) this.counts[this.bin(values[i])] += 1;
      this.total += n;
      return this;
    }
    const { lo } = this;
    // two interleaved tallies: runs of equal values (paper) do not wait on one counter
    const even = new Uint32Array(BINS);
    const odd = new Uint32Array(BINS);
    let i = 0;
    for (; i + 1 < n; i += 2) {
      const s = (values[i] - lo) * scale;
      even[s <= 0 ? 0 : s >= BINS ? BINS - 1 : floor(s)]++;
      const t = (values[i + 1] - lo) * scale;
      odd[t <= 0 ? 0 : t >= BINS ? BINS - 1 : floor(t)]++;
    }
    if (i < n) {
      const s = (values[i] - lo) * scale;
      even[s <= 0 ? 0 : s >= BINS ? BINS - 1 : floor(s)]++;
    }
    return this.merge(even, odd, n);
  }

  /**
   * Adds |v − centre| for every value v (a spread around `centre`). The loop repeats addAll's on
   * purpose: one shared loop with a per-value mapping measured ~1 ms slower per photo.
   */
  addDeviations(values: ArrayLike<number>, centre: number): this {
    const n = values.length;
    const scale = n < SMALL ? 0 : this.exactScale();
    if (scale === 0) {
      for (let i = 0; i < n; i++) this.counts[this.bin(abs(values[i] - centre))] += 1;
      this.total += n;
      return this;
    }
    const { lo } = this;
    const even = new Uint32Array(BINS);
    const odd = new Uint32Array(BINS);
    let i = 0;
    for (; i + 1 < n; i += 2) {
      const s = (abs(values[i] - centre) - lo) * scale;
      even[s <= 0 ? 0 : s >= BINS ? BINS - 1 : floor(s)]++;
      const t = (abs(values[i + 1] - centre) - lo) * scale;
      odd[t <= 0 ? 0 : t >= BINS ? BINS - 1 : floor(t)]++;
    }
    if (i < n) {
      const s = (abs(values[i] - centre) - lo) * scale;
      even[s <= 0 ? 0 : s >= BINS ? BINS - 1 : floor(s)]++;
    }
    return this.merge(even, odd, n);
  }

  private merge(even: Uint32Array, odd: Uint32Array, n: number): this {
    const { counts } = this;
    for (let bin = 0; bin < BINS; bin++) counts[bin] += even[bin] + odd[bin];
    this.total += n;
    return this;
  }

  private bin(value: number): number {
    const t = (value - this.lo) / (this.hi - this.lo);
    return t <= 0 ? 0 : t >= 1 ? BINS - 1 : floor(t * BINS);
  }

  /**
   * BINS / (hi − lo) when the range is a power of two, else 0: then `(v − lo) · scale` is exactly
   * `(v − lo) / (hi − lo) · BINS` (both only shift the exponent), without a division per value.
   */
  private exactScale(): number {
    const span = this.hi - this.lo;
    return span > 0 && 2 ** Math.round(Math.log2(span)) === span ? BINS / span : 0;
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

/** Median of a small array (copied; the input is left as it is). */
export function median(values: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) return 0;
  const a = Float64Array.from(values);
  const mid = n >> 1;
  const upper = select(a, mid);
  if (n % 2) return upper;
  // after selecting, everything below `mid` is ≤ a[mid]: the lower middle is their maximum
  let lower = a[0];
  for (let i = 1; i < mid; i++) if (a[i] > lower) lower = a[i];
  return (lower + upper) / 2;
}

/** Quickselect (Hoare): reorders `a` so a[k] is the k-th smallest, a[..k] ≤ a[k] ≤ a[k+1..]; returns a[k]. */
function select(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i++] = a[j];
        a[j--] = t;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return a[k];
}
