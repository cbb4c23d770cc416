/**
 * Windows of runtime metrics for canary analysis: counters scraped from a track's pods at two
 * times become the window's counts by difference (a restarted pod's counters start again from
 * 0), and the p95 latency comes from histogram buckets summed over the pods, the way PromQL's
 * histogram_quantile(0.95, sum by (le) (increase(...))) computes it — never an average of per-pod
 * gauges.
 */

/** Cumulative latency histogram: upper bounds in seconds (the last is +Inf) and counts <= each. */
export interface Buckets {
  le: number[];
  counts: number[];
}

/** A track's counts over one window, summed over its pods (mirrored requests already left out by the runtime). */
export interface TrackWindow {
  /** Predictions answered 2xx. */
  ok: number;
  /** Predictions answered 5xx (504 deadline included). */
  errors: number;
  /** Predictions refused 429 (shedding: reported, not an error). */
  shed: number;
  /** Images predicted, and of them those answered `reliable: false`. */
  images: number;
  unreliable: number;
  /** Requests the pods mirrored to the other track, and those whose digits differed. */
  mirrored: number;
  disagreements: number;
  latency: Buckets;
}

/** One pod's cumulative counters at one scrape: the same fields, counted since the pod started. */
export interface PodCounters extends TrackWindow {
  /** Identifies the pod across scrapes (its UID). */
  pod: string;
  /** process_start_time_seconds: a change means the counters were reset. */
  startTime: number;
}

const COUNTERS = ['ok', 'errors', 'shed', 'images', 'unreliable', 'mirrored', 'disagreements'] as const;

function emptyBuckets(le: number[]): Buckets {
  return { le: [...le], counts: le.map(() => 0) };
}

/** The pod's counts since `before` (or since it started, when it is new or was restarted). */
export function podDelta(before: PodCounters | undefined, now: PodCounters): TrackWindow {
  const reset =
    !before ||
    before.startTime !== now.startTime ||
    COUNTERS.some((k) => now[k] < before[k]) ||
    now.latency.counts.some((c, i) => c < (before.latency.counts[i] ?? 0));
  const base = reset ? undefined : before;
  const out = { latency: emptyBuckets(now.latency.le) } as TrackWindow;
  for (const k of COUNTERS) out[k] = now[k] - (base?.[k] ?? 0);
  out.latency.counts = now.latency.counts.map((c, i) => c - (base?.latency.counts[i] ?? 0));
  return out;
}

/**
 * The track's window between two scrapes. Pods gone since `before` are left out (their last
 * counts were in earlier windows); pods new in `now` count from their start.
 */
export function trackWindow(before: readonly PodCounters[], now: readonly PodCounters[]): TrackWindow {
  const prev = new Map(before.map((p) => [p.pod, p]));
  const le = now[0]?.latency.le ?? [Infinity];
  const sum: TrackWindow = {
    ok: 0, errors: 0, shed: 0, images: 0, unreliable: 0, mirrored: 0, disagreements: 0, latency: emptyBuckets(le),
  };
  for (const pod of now) {
    if (!sameBounds(pod.latency.le, le)) throw new Error(`pod ${pod.pod}: latency buckets differ from the track's other pods`);
    const d = podDelta(prev.get(pod.pod), pod);
    for (const k of COUNTERS) sum[k] += d[k];
    d.latency.counts.forEach((c, i) => (sum.latency.counts[i] += c));
  }
  return sum;
}

function sameBounds(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * The q-quantile of a cumulative histogram, as Prometheus's histogram_quantile: linear within
 * the bucket that holds the rank, the highest finite bound when that is the +Inf bucket, NaN
 * when the histogram is empty.
 */
export function histogramQuantile(q: number, b: Buckets): number {
  const total = b.counts[b.counts.length - 1] ?? 0;
  if (!(total > 0)) return NaN;
  const rank = q * total;
  const i = b.counts.findIndex((c) => c >= rank);
  if (b.le[i] === Infinity) return b.le[i - 1] ?? NaN;
  const lower = i === 0 ? 0 : b.le[i - 1];
  const below = i === 0 ? 0 : b.counts[i - 1];
  const inBucket = b.counts[i] - below;
  return inBucket === 0 ? b.le[i] : lower + ((b.le[i] - lower) * (rank - below)) / inBucket;
}
