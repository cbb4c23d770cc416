import fc from 'fast-check';
import { histogramQuantile, podDelta, trackWindow, type PodCounters } from '../../../../operator/analysis/window.js';

const LE = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, Infinity];

function pod(name: string, over: Partial<Omit<PodCounters, 'latency'>> & { latency?: number[] } = {}): PodCounters {
  const { latency, ...rest } = over;
  return {
    pod: name, startTime: 1000, ok: 0, errors: 0, shed: 0, images: 0, unreliable: 0, mirrored: 0, disagreements: 0,
    ...rest,
    latency: { le: LE, counts: latency ?? LE.map(() => 0) },
  };
}

/** Cumulative counts of `values` (seconds) over LE. */
const cumulative = (values: number[]) => LE.map((le) => values.filter((v) => v <= le).length);

describe('windows by difference', () => {
  it('is the difference of each counter between two scrapes, summed over pods', () => {
    const before = [pod('a', { ok: 10, errors: 1, images: 12, unreliable: 2 }), pod('b', { ok: 5, shed: 3 })];
    const now = [pod('a', { ok: 25, errors: 2, images: 30, unreliable: 3 }), pod('b', { ok: 9, shed: 10, mirrored: 4, disagreements: 1 })];
    expect(trackWindow(before, now)).toMatchObject({ ok: 19, errors: 1, shed: 7, images: 18, unreliable: 1, mirrored: 4, disagreements: 1 });
  });

  it('counts a restarted pod from 0 (start time changed), not as a negative window', () => {
    const d = podDelta(pod('a', { ok: 100, startTime: 1000 }), pod('a', { ok: 7, startTime: 2000 }));
    expect(d.ok).toBe(7);
  });

  it('counts from 0 when any counter went down, even with the same start time', () => {
    const d = podDelta(pod('a', { ok: 100, errors: 5 }), pod('a', { ok: 120, errors: 2 }));
    expect(d).toMatchObject({ ok: 120, errors: 2 });
  });

  it('counts a new pod from its start and leaves out a pod that is gone', () => {
    const w = trackWindow([pod('gone', { ok: 50 })], [pod('new', { ok: 4 })]);
    expect(w.ok).toBe(4);
  });

  it('sums latency buckets over pods before taking the quantile', () => {
    const a = cumulative(Array(95).fill(0.004));
    const b = cumulative(Array(5).fill(1.5).concat(Array(95).fill(0.004)));
    const w = trackWindow([], [pod('a', { latency: a }), pod('b', { latency: b })]);
    expect(w.latency.counts.at(-1)).toBe(195);
    // 95% of 195 = 185.25th observation: within the first bucket (190 observations ≤ 5 ms)
    expect(histogramQuantile(0.95, w.latency)).toBeLessThanOrEqual(0.005);
  });

  it('refuses pods whose bucket bounds differ (a p95 over them would be meaningless)', () => {
    const odd = pod('b');
    odd.latency = { le: [0.1, Infinity], counts: [0, 0] };
    expect(() => trackWindow([], [pod('a'), odd])).toThrow(/buckets differ/);
  });
});

describe('histogramQuantile', () => {
  it('is NaN for an empty histogram', () => {
    expect(histogramQuantile(0.95, { le: LE, counts: LE.map(() => 0) })).toBeNaN();
  });

  it('interpolates linearly within the bucket, as Prometheus does', () => {
    // 100 observations: 50 in (0, 0.1], 50 in (0.1, 0.2]
    const b = { le: [0.1, 0.2, Infinity], counts: [50, 100, 100] };
    expect(histogramQuantile(0.5, b)).toBeCloseTo(0.1);
    expect(histogramQuantile(0.75, b)).toBeCloseTo(0.15);
    expect(histogramQuantile(0.25, b)).toBeCloseTo(0.05);
  });

  it('answers the highest finite bound when the rank falls in the +Inf bucket', () => {
    expect(histogramQuantile(0.95, { le: [0.1, 1, Infinity], counts: [10, 10, 100] })).toBe(1);
  });

  it('lies in the bucket that holds the true quantile of the observations', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0.0001, max: 4, noNaN: true }), { minLength: 1, maxLength: 300 }), (values) => {
        const sorted = [...values].sort((x, y) => x - y);
        const truth = sorted[Math.max(0, Math.ceil(0.95 * sorted.length) - 1)];
        const q = histogramQuantile(0.95, { le: LE, counts: cumulative(values) });
        const i = LE.findIndex((le) => truth <= le);
        const lower = i === 0 ? 0 : LE[i - 1];
        expect(q).toBeGreaterThanOrEqual(lower - 1e-12);
        expect(q).toBeLessThanOrEqual(LE[i] + 1e-12);
      }),
    );
  });
});
