import type { Track } from '../api/constants.js';
import { METRIC } from '../../runtime/metrics/names.js';
import { ANALYSIS_METRIC, COMPARED_OUTCOME } from './pod-counters.js';
import type { Buckets, TrackWindow } from './window.js';

/**
 * The same windows as scraping gives (window.ts), read from Prometheus with PromQL instead
 * (`--prometheus-url`, SPEC §7): `increase(...[interval])` of the runtime's counters summed over a
 * track's pods, and the latency buckets summed by `le`, so histogram_quantile's way of computing
 * the p95 is kept. The runtime labels every series with model (the DigitModel's name) and track;
 * Prometheus adds namespace (the chart's runtime PodMonitor does). Prometheus handles counter
 * resets itself, so no baseline is needed; it must scrape the pods more often than the interval.
 */

export interface PromQLOptions {
  url: string;
  timeoutMs?: number;
}

export interface PromQLWindows {
  windows: Partial<Record<Track, TrackWindow>>;
  /** Tracks without any series in the window (no pods, or not scraped). */
  missing: Track[];
}

type Vector = { metric: Record<string, string>; value: [number, string] }[];

export class PromQLError extends Error {
  override name = 'PromQLError';
}

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"');

/** The PromQL of each quantity, `by (track)` (the buckets also by `le`). Pure. */
export function windowQueries(namespace: string, model: string, seconds: number): Record<keyof Omit<TrackWindow, 'latency'> | 'latency', string> {
  const sel = (extra = '') => `{namespace="${esc(namespace)}", model="${esc(model)}"${extra}}`;
  const inc = (name: string, extra = '') => `sum by (track) (increase(${name}${sel(extra)}[${seconds}s]))`;
  return {
    ok: inc(METRIC.requests, ', code=~"2.."'),
    errors: inc(METRIC.requests, ', code=~"5.."'),
    shed: inc(METRIC.requests, ', code="429"'),
    images: inc(METRIC.predictions),
    unreliable: inc(METRIC.predictions, ', reliable="false"'),
    mirrored: inc(ANALYSIS_METRIC.mirrorRequests, `, outcome="${COMPARED_OUTCOME}"`),
    disagreements: inc(ANALYSIS_METRIC.mirrorDisagreements),
    latency: `sum by (track, le) (increase(${METRIC.requestDuration}_bucket${sel()}[${seconds}s]))`,
  };
}

/** Runs one instant query; rejects with a PromQLError on anything but a vector answer. */
export async function instantQuery(o: PromQLOptions, query: string): Promise<Vector> {
  const url = new URL('api/v1/query', o.url.endsWith('/') ? o.url : `${o.url}/`);
  url.searchParams.set('query', query);
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(o.timeoutMs ?? 5_000) });
  } catch (err) {
    throw new PromQLError(`GET ${url.origin}${url.pathname}: ${(err as Error).message}`);
  }
  const body = (await res.json().catch(() => undefined)) as { status?: string; error?: string; data?: { resultType?: string; result?: Vector } } | undefined;
  if (!res.ok || body?.status !== 'success' || body.data?.resultType !== 'vector') {
    throw new PromQLError(`query ${query} answered ${res.status}: ${body?.error ?? 'no vector'}`);
  }
  return body.data.result ?? [];
}

/** Both tracks' windows over the last `seconds`. */
export async function promqlWindows(o: PromQLOptions, namespace: string, model: string, seconds: number): Promise<PromQLWindows> {
  const q = windowQueries(namespace, model, seconds);
  const keys = Object.keys(q) as (keyof typeof q)[];
  const answers = await Promise.all(keys.map((k) => instantQuery(o, q[k])));
  const byKey = Object.fromEntries(keys.map((k, i) => [k, answers[i]])) as Record<keyof typeof q, Vector>;
  const out: PromQLWindows = { windows: {}, missing: [] };
  for (const track of ['stable', 'canary'] as const) {
    const buckets = bucketsOf(byKey.latency.filter((s) => s.metric.track === track));
    if (!buckets) {
      out.missing.push(track);
      continue;
    }
    const value = (k: Exclude<keyof typeof q, 'latency'>) => Number(byKey[k].find((s) => s.metric.track === track)?.value[1] ?? 0);
    out.windows[track] = {
      ok: value('ok'),
      errors: value('errors'),
      shed: value('shed'),
      images: value('images'),
      unreliable: value('unreliable'),
      mirrored: value('mirrored'),
      disagreements: value('disagreements'),
      latency: buckets,
    };
  }
  return out;
}

function bucketsOf(samples: Vector): Buckets | undefined {
  const pairs = samples.map((s) => [s.metric.le === '+Inf' ? Infinity : Number(s.metric.le), Number(s.value[1])] as const);
  if (!pairs.some(([le]) => le === Infinity)) return undefined;
  pairs.sort((a, b) => a[0] - b[0]);
  return { le: pairs.map((p) => p[0]), counts: pairs.map((p) => p[1]) };
}
