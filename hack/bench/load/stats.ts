import type { Sample } from './open-loop.js';

/** Figures of a set of samples: latency percentiles, counts by outcome, Retry-After values. */

export interface Summary {
  requests: number;
  /** Requests per second offered (due times) over the span. */
  offeredRps: number;
  /** 200s per second. */
  goodputRps: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Latency of the 200 answers only (shed 429s are fast and would flatter the figures). */
  ok: { p50Ms: number; p99Ms: number; maxMs: number };
  byStatus: Record<string, number>;
  errors: Record<string, number>;
  retryAfter: Record<string, number>;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

const r1 = (x: number) => Math.round(x * 10) / 10;

export function summarise(samples: Sample[]): Summary {
  const lat = samples.map((s) => s.end - s.due).sort((a, b) => a - b);
  const okLat = samples.filter((s) => s.status === 200).map((s) => s.end - s.due).sort((a, b) => a - b);
  const byStatus: Record<string, number> = {};
  const errors: Record<string, number> = {};
  const retryAfter: Record<string, number> = {};
  for (const s of samples) {
    byStatus[String(s.status)] = (byStatus[String(s.status)] ?? 0) + 1;
    if (s.error) errors[s.error] = (errors[s.error] ?? 0) + 1;
    if (s.retryAfter !== undefined) retryAfter[s.retryAfter] = (retryAfter[s.retryAfter] ?? 0) + 1;
  }
  const dues = samples.map((s) => s.due);
  const span = samples.length > 1 ? (Math.max(...dues) - Math.min(...dues)) / 1000 : 1;
  return {
    requests: samples.length,
    offeredRps: r1(samples.length / Math.max(span, 1e-3)),
    goodputRps: r1((byStatus['200'] ?? 0) / Math.max(span, 1e-3)),
    p50Ms: r1(percentile(lat, 50)),
    p99Ms: r1(percentile(lat, 99)),
    maxMs: r1(lat[lat.length - 1] ?? NaN),
    ok: { p50Ms: r1(percentile(okLat, 50)), p99Ms: r1(percentile(okLat, 99)), maxMs: r1(okLat[okLat.length - 1] ?? NaN) },
    byStatus,
    errors,
    retryAfter,
  };
}

/** Samples of `phase` grouped into windows of `seconds` by due time (from the phase's first request). */
export function windows(samples: Sample[], phase: string, seconds: number): Sample[][] {
  const mine = samples.filter((s) => s.phase === phase);
  if (mine.length === 0) return [];
  const t0 = Math.min(...mine.map((s) => s.due));
  const out: Sample[][] = [];
  for (const s of mine) {
    const k = Math.floor((s.due - t0) / (seconds * 1000));
    (out[k] ??= []).push(s);
  }
  return out.filter(Boolean);
}
