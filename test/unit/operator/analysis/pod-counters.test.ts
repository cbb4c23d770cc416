import { jest } from '@jest/globals';
import { podCounters } from '../../../../operator/analysis/pod-counters.js';
import { podDelta, type PodCounters } from '../../../../operator/analysis/window.js';
import { validDigitPng } from '../../../support/hostile.js';
import { RuntimeProcess, getText } from '../../../support/runtime-process.js';

jest.setTimeout(300_000);

const LABELS = 'model="mnist-cnn",version="1",track="canary"';
const BUCKETS = (counts: number[]) =>
  ['0.1', '0.5', '+Inf'].map((le, i) => `digitserve_request_duration_seconds_bucket{le="${le}",${LABELS}} ${counts[i]}`).join('\n');

function fixture(o: { start?: number; codes?: Record<string, number>; buckets?: number[] | null; extra?: string }): string {
  return [
    '# TYPE digitserve_requests_total counter',
    ...Object.entries(o.codes ?? {}).map(([code, n]) => `digitserve_requests_total{code="${code}",${LABELS}} ${n}`),
    o.buckets === null ? '' : BUCKETS(o.buckets ?? [0, 0, 0]),
    o.start === undefined ? '' : `process_start_time_seconds{${LABELS}} ${o.start}`,
    o.extra ?? '',
  ].join('\n');
}

function counters(pod: string, text: string): PodCounters {
  const r = podCounters(pod, text);
  if (!r.ok) throw new Error(r.error.message);
  return r.counters;
}

describe('pod counters from a runtime exposition (fixtures)', () => {
  it('counts 2xx as ok, 5xx and 504 as errors, 429 as shed, and other refusals as none of them', () => {
    const c = counters('p', fixture({ start: 100, codes: { 200: 7, 400: 2, 404: 1, 415: 1, 422: 1, 429: 3, 500: 1, 503: 4, 504: 2 } }));
    expect({ ok: c.ok, errors: c.errors, shed: c.shed }).toEqual({ ok: 7, errors: 7, shed: 3 });
  });

  it('reads reliable=false from the predictions label, summing over digits', () => {
    const c = counters('p', fixture({
      start: 1,
      extra: [
        `digitserve_predictions_total{digit="3",reliable="true",${LABELS}} 5`,
        `digitserve_predictions_total{digit="3",reliable="false",${LABELS}} 2`,
        `digitserve_predictions_total{digit="8",reliable="false",${LABELS}} 1`,
        // a runtime exporting both: the label wins
        `digitserve_unreliable_total{${LABELS}} 99`,
      ].join('\n'),
    }));
    expect({ images: c.images, unreliable: c.unreliable }).toEqual({ images: 8, unreliable: 3 });
  });

  it("falls back to digitserve_unreliable_total when the predictions carry no reliable label (today's runtime)", () => {
    const c = counters('p', fixture({
      start: 1,
      extra: `digitserve_predictions_total{digit="1",${LABELS}} 4\ndigitserve_predictions_total{digit="2",${LABELS}} 6\ndigitserve_unreliable_total{${LABELS}} 2`,
    }));
    expect({ images: c.images, unreliable: c.unreliable }).toEqual({ images: 10, unreliable: 2 });
  });

  it('counts compared mirrored requests and disagreements, leaving dropped and failed mirrors out', () => {
    const c = counters('p', fixture({
      start: 1,
      extra: [
        `digitserve_mirror_requests_total{outcome="compared",${LABELS}} 40`,
        `digitserve_mirror_requests_total{outcome="dropped",${LABELS}} 9`,
        `digitserve_mirror_requests_total{outcome="failed",${LABELS}} 1`,
        `digitserve_mirror_disagreements_total{${LABELS}} 3`,
      ].join('\n'),
    }));
    expect({ mirrored: c.mirrored, disagreements: c.disagreements }).toEqual({ mirrored: 40, disagreements: 3 });
  });

  it('treats absent optional series (no requests yet, no predictions, no mirroring) as 0', () => {
    const c = counters('p', fixture({ start: 42 }));
    expect(c).toEqual({
      pod: 'p', startTime: 42, ok: 0, errors: 0, shed: 0, images: 0, unreliable: 0, mirrored: 0, disagreements: 0,
      latency: { le: [0.1, 0.5, Infinity], counts: [0, 0, 0] },
    });
  });

  it.each([
    ['process_start_time_seconds', fixture({ buckets: [1, 2, 3] }), /no process_start_time_seconds/],
    ['the latency histogram', fixture({ start: 1, buckets: null }), /no digitserve_request_duration_seconds_bucket\{le="\+Inf"\}/],
  ])('refuses an exposition without %s (missing_series: not a runtime)', (_what, text, message) => {
    const r = podCounters('pod-a', text);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('missing_series');
      expect(r.error.message).toMatch(message);
      expect(r.error.message).toMatch(/^pod pod-a: /);
    }
  });

  it('reports a malformed exposition as malformed_exposition', () => {
    const r = podCounters('p', 'digitserve_requests_total{code="200"} lots');
    expect(r).toMatchObject({ ok: false, error: { code: 'malformed_exposition' } });
  });

  it('sees a restart: a new process_start_time_seconds and lower counters count from the restart', () => {
    const before = counters('p', fixture({ start: 1000, codes: { 200: 500, 500: 5 }, buckets: [400, 490, 505] }));
    const after = counters('p', fixture({ start: 1300, codes: { 200: 20, 500: 1 }, buckets: [15, 20, 21] }));
    expect(podDelta(before, after)).toMatchObject({ ok: 20, errors: 1, latency: { le: [0.1, 0.5, Infinity], counts: [15, 20, 21] } });
    const later = counters('p', fixture({ start: 1300, codes: { 200: 50, 500: 1 }, buckets: [40, 50, 51] }));
    expect(podDelta(after, later)).toMatchObject({ ok: 30, errors: 0, latency: { counts: [25, 30, 30] } });
  });
});

describe('pod counters from a real runtime', () => {
  let rp: RuntimeProcess | undefined;
  afterAll(async () => {
    await rp?.kill();
  });

  const predict = async (body: Buffer | string, contentType: string, path = '/v1/models/mnist-cnn:predict') => {
    const res = await fetch(`${rp!.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': contentType }, body });
    const json = (await res.json()) as { predictions?: { digit: number; reliable: boolean }[] };
    return { status: res.status, predictions: json.predictions ?? [] };
  };
  const scrape = async () => {
    const { status, text } = await getText(`http://127.0.0.1:${rp!.metricsPort}/metrics`);
    expect(status).toBe(200);
    return counters('runtime', text);
  };

  it('counts real predictions, refusals and latencies as the runtime answered them', async () => {
    rp = await RuntimeProcess.start({ env: { LOG_LEVEL: 'warn' } });
    const before = await scrape();
    expect(before).toMatchObject({ ok: 0, errors: 0, shed: 0, images: 0, unreliable: 0, mirrored: 0, disagreements: 0 });
    expect(before.startTime).toBeGreaterThan(0);
    expect(before.startTime).toBeLessThanOrEqual(Date.now() / 1000);
    expect(before.latency.le[before.latency.le.length - 1]).toBe(Infinity);

    const answers = [];
    for (const i of [0, 1, 2]) answers.push(await predict(await validDigitPng(i), 'image/png'));
    const two = [await validDigitPng(3), await validDigitPng(4)].map((png) => ({ b64: png.toString('base64') }));
    answers.push(await predict(JSON.stringify({ instances: two }), 'application/json'));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    const refused = await predict(Buffer.from('not an image'), 'image/png');
    expect(refused.status).toBe(400);

    const now = await scrape();
    const predictions = answers.flatMap((a) => a.predictions);
    expect(predictions).toHaveLength(5);
    expect(now).toMatchObject({
      ok: 4, errors: 0, shed: 0, images: 5, mirrored: 0, disagreements: 0, startTime: before.startTime,
      unreliable: predictions.filter((p) => !p.reliable).length,
    });
    // 4 answered predictions timed; the 400 refusal is not
    expect(now.latency.counts[now.latency.counts.length - 1]).toBe(4);
    expect(podDelta(before, now)).toMatchObject({ ok: 4, images: 5 });

    await predict(await validDigitPng(5), 'image/png');
    const last = await scrape();
    expect(podDelta(now, last)).toMatchObject({ ok: 1, errors: 0, images: 1 });
  });
});
