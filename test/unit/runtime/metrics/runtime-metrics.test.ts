import { countsAsAnswered, RuntimeMetrics } from '../../../../runtime/metrics/runtime-metrics.js';

const labels = { model: 'm', version: '1', track: 'stable' };

describe('RuntimeMetrics: latency of predictions answered', () => {
  it('times 2xx and 504 answers only', () => {
    for (const c of [200, 204, 504]) expect(countsAsAnswered(c)).toBe(true);
    for (const c of [400, 404, 405, 413, 415, 422, 429, 500, 503]) expect(countsAsAnswered(c)).toBe(false);
  });

  it('keeps the p95 gauge and the duration histogram on answered predictions while refusals flood in (issue #15 item 10)', async () => {
    let now = 0;
    const m = new RuntimeMetrics(labels, () => now);
    for (let i = 0; i < 20; i++) m.request(200, 0.5);
    m.request(504, 1);
    // shedding load: many fast refusals, which must not pull the HPA's p95 down
    for (const code of [429, 404, 400, 415]) for (let i = 0; i < 100; i++) m.request(code, 0.001);
    now += 1;
    expect(m.figures().latencyP95Seconds).toBe(0.5);
    const text = await m.exposition();
    expect(text).toMatch(/^digitserve_request_duration_seconds_count\{[^}]*\} 21$/m);
    expect(text).toMatch(/^digitserve_request_latency_p95_seconds\{[^}]*\} 0\.5$/m);
    // every answer is still counted by its code
    expect(text).toMatch(/^digitserve_requests_total\{code="429"[^}]*\} 100$/m);
  });
});
