import type { Summary } from './stats.js';

/** The bench's results as Markdown (the block docs/RELIABILITY.md carries between its markers). */

export interface LoadResult {
  when: string;
  machine: string;
  config: Record<string, string | number>;
  soak: Summary;
  burst: Summary;
  recovery: { window: string; summary: Summary }[];
  ramp: { rps: number; summary: Summary }[];
  saturationRps: number | null;
  rss: { phase: string; minMiB: number; maxMiB: number; lastMiB: number }[];
  serverCounts: Record<string, number>;
}

const fmt = (s: Summary) => `${s.p50Ms} / ${s.p99Ms} / ${s.maxMs}`;
const counts = (r: Record<string, number>) =>
  Object.entries(r)
    .sort()
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ') || '—';

export function markdown(r: LoadResult): string {
  const L: string[] = [];
  L.push(`Run ${r.when} on ${r.machine}.`, '');
  L.push(`Runtime: ${Object.entries(r.config).map(([k, v]) => `${k}=${v}`).join(', ')}.`, '');
  L.push('| phase | offered req/s | requests | 200 req/s | latency p50 / p99 / max (ms, all answers) | 200s only p50 / p99 / max (ms) | by status | connection errors | Retry-After (s: count) |');
  L.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  const row = (name: string, s: Summary) =>
    L.push(`| ${name} | ${s.offeredRps} | ${s.requests} | ${s.goodputRps} | ${fmt(s)} | ${fmt({ ...s, ...s.ok } as Summary)} | ${counts(s.byStatus)} | ${counts(s.errors)} | ${counts(s.retryAfter)} |`);
  row('soak', r.soak);
  row('burst (10×)', r.burst);
  for (const w of r.recovery) row(`after burst, ${w.window}`, w.summary);
  for (const s of r.ramp) row(`ramp ${s.rps} req/s`, s.summary);
  L.push('');
  L.push(`Saturation (highest ramp step with ≥ 99% answered 200 and p99 of 200s < 2 s): ${r.saturationRps === null ? 'below the first step' : `${r.saturationRps} req/s`}.`, '');
  L.push('RSS of the runtime process (MiB, sampled each second from /proc/<pid>/status):', '');
  L.push('| phase | min | max | last |', '| --- | --- | --- | --- |');
  for (const p of r.rss) L.push(`| ${p.phase} | ${p.minMiB} | ${p.maxMiB} | ${p.lastMiB} |`);
  L.push('');
  L.push(`The runtime's own count of prediction answers by status (digitserve_requests_total): ${counts(r.serverCounts)}.`);
  return L.join('\n');
}
