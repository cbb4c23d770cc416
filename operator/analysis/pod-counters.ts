import { METRIC } from '../../runtime/metrics/names.js';
import { parseExposition, type Sample } from './exposition.js';
import type { Buckets, PodCounters } from './window.js';

/**
 * A runtime pod's /metrics (SPEC §3, §7) as the counters the analysis windows difference
 * (window.ts). The runtime counts prediction routes only in digitserve_requests_total, by code:
 * 2xx ok, 5xx (504 included) errors, 429 shed; other refusals (400, 404, 415, 422, 503) are
 * none of these. Series a runtime may not export yet count as 0: the mirror series and the
 * `reliable` label of digitserve_predictions_total (older runtimes count reliable=false answers
 * in digitserve_unreliable_total instead, read when the label is absent).
 */

/** The series the analysis reads besides METRIC's: the mirror counters come from METRIC (one source). */
export const ANALYSIS_METRIC = {
  mirrorRequests: METRIC.mirrorRequests,
  mirrorDisagreements: METRIC.mirrorDisagreements,
  /** prom-client's default process metric. */
  processStart: 'process_start_time_seconds',
} as const;

/**
 * digitserve_mirror_requests_total{outcome}: the outcome of mirrored requests whose digits were
 * compared. Other outcomes (dropped under load, failed) are not in the disagreement share's
 * denominator. A series without an outcome label counts as compared.
 */
export const COMPARED_OUTCOME = 'compared';

export interface CountersError {
  code: 'malformed_exposition' | 'missing_series';
  message: string;
}

export type CountersResult = { ok: true; counters: PodCounters } | { ok: false; error: CountersError };

const sum = (samples: Sample[], name: string, keep: (labels: Record<string, string>) => boolean = () => true) =>
  samples.reduce((acc, s) => (s.name === name && keep(s.labels) ? acc + s.value : acc), 0);

/** The request latency histogram, buckets summed over every other label (one runtime: one series). */
function latencyBuckets(samples: Sample[]): Buckets | undefined {
  const byLe = new Map<number, number>();
  for (const s of samples) {
    if (s.name !== `${METRIC.requestDuration}_bucket` || s.labels.le === undefined) continue;
    const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
    byLe.set(le, (byLe.get(le) ?? 0) + s.value);
  }
  if (!byLe.has(Infinity)) return undefined;
  const le = [...byLe.keys()].sort((a, b) => a - b);
  return { le, counts: le.map((b) => byLe.get(b)!) };
}

/** The counters of one pod's exposition; `pod` identifies the pod across scrapes (its UID). */
export function podCountersFromSamples(pod: string, samples: Sample[]): CountersResult {
  const start = samples.find((s) => s.name === ANALYSIS_METRIC.processStart);
  if (!start) return missing(pod, ANALYSIS_METRIC.processStart);
  const latency = latencyBuckets(samples);
  if (!latency) return missing(pod, `${METRIC.requestDuration}_bucket{le="+Inf"}`);
  const code = (l: Record<string, string>) => Number(l.code);
  const predictions = samples.filter((s) => s.name === METRIC.predictions);
  const labelled = predictions.some((s) => s.labels.reliable !== undefined);
  return {
    ok: true,
    counters: {
      pod,
      startTime: start.value,
      ok: sum(samples, METRIC.requests, (l) => code(l) >= 200 && code(l) < 300),
      errors: sum(samples, METRIC.requests, (l) => code(l) >= 500 && code(l) < 600),
      shed: sum(samples, METRIC.requests, (l) => code(l) === 429),
      images: sum(predictions, METRIC.predictions),
      unreliable: labelled ? sum(predictions, METRIC.predictions, (l) => l.reliable === 'false') : sum(samples, METRIC.unreliable),
      mirrored: sum(samples, ANALYSIS_METRIC.mirrorRequests, (l) => l.outcome === undefined || l.outcome === COMPARED_OUTCOME),
      disagreements: sum(samples, ANALYSIS_METRIC.mirrorDisagreements),
      latency,
    },
  };
}

/** The counters of one pod's /metrics text. */
export function podCounters(pod: string, exposition: string): CountersResult {
  const parsed = parseExposition(exposition);
  if (!parsed.ok) return { ok: false, error: { code: parsed.error.code, message: `pod ${pod}: ${parsed.error.message}` } };
  return podCountersFromSamples(pod, parsed.samples);
}

function missing(pod: string, series: string): CountersResult {
  return { ok: false, error: { code: 'missing_series', message: `pod ${pod}: /metrics has no ${series}; is it a digitserve runtime?` } };
}
