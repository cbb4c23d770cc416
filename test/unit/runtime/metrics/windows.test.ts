import { RateWindow } from '../../../../runtime/metrics/rate-window.js';
import { SlidingQuantile } from '../../../../runtime/metrics/sliding-quantile.js';
import { TimeAverage } from '../../../../runtime/metrics/time-average.js';

function clock(start = 1_000_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

describe('TimeAverage (queue depth over 30 s)', () => {
  it('weights each value by how long it held', () => {
    const c = clock();
    const a = new TimeAverage(30_000, c.now);
    a.set(10);
    c.t += 3_000; // 10 for 3 s, 0 for the 27 s before
    expect(a.average()).toBeCloseTo(1, 10);
    a.set(0);
    c.t += 27_000; // the burst is still inside the window
    expect(a.average()).toBeCloseTo(1, 10);
    c.t += 1_500; // half of it has left the window
    expect(a.average()).toBeCloseTo(0.5, 10);
    c.t += 30_000;
    expect(a.average()).toBe(0);
  });

  it('sees a millisecond burst that an instantaneous gauge would miss', () => {
    const c = clock();
    const a = new TimeAverage(30_000, c.now);
    for (let i = 0; i < 1000; i++) {
      a.set(4);
      c.t += 3;
      a.set(0);
      c.t += 27;
    }
    expect(a.current()).toBe(0);
    expect(a.average()).toBeCloseTo(0.4, 6);
  });

  it('averages a constant to itself and keeps memory bounded', () => {
    const c = clock();
    const a = new TimeAverage(30_000, c.now);
    a.set(3);
    c.t += 60_000;
    expect(a.average()).toBe(3);
    for (let i = 0; i < 100_000; i++) {
      a.set(i % 2);
      c.t += 1;
    }
    expect((a as unknown as { points: unknown[] }).points.length).toBeLessThanOrEqual(30_002);
  });
});

describe('SlidingQuantile (p95 over 60 s)', () => {
  it('returns the nearest-rank quantile of the observations in the window', () => {
    const c = clock();
    const q = new SlidingQuantile(60_000, c.now);
    expect(q.quantile(0.95)).toBe(0);
    for (let i = 1; i <= 100; i++) q.observe(i / 1000);
    expect(q.quantile(0.95)).toBe(0.095);
    expect(q.quantile(0.5)).toBe(0.05);
    expect(q.quantile(1)).toBe(0.1);
  });

  it('forgets observations older than the window', () => {
    const c = clock();
    const q = new SlidingQuantile(60_000, c.now);
    for (let i = 0; i < 50; i++) q.observe(5);
    c.t += 30_000;
    for (let i = 0; i < 50; i++) q.observe(0.01);
    expect(q.quantile(0.95)).toBe(5);
    c.t += 30_001;
    expect(q.count()).toBe(50);
    expect(q.quantile(0.95)).toBe(0.01);
    c.t += 60_000;
    expect(q.count()).toBe(0);
    expect(q.quantile(0.95)).toBe(0);
  });

  it('keeps at most `capacity` observations, dropping the oldest', () => {
    const c = clock();
    const q = new SlidingQuantile(60_000, c.now, 10);
    for (let i = 0; i < 5000; i++) q.observe(i);
    expect(q.count()).toBe(10);
    expect(q.quantile(0)).toBe(4990);
  });
});

describe('RateWindow', () => {
  it('counts events per second over the window and forgets old slots', () => {
    const c = clock();
    const r = new RateWindow(10_000, c.now);
    r.add(50);
    c.t += 4_000;
    r.add(50);
    expect(r.perSecond()).toBe(10);
    c.t += 6_500; // the first 50 left the window
    expect(r.perSecond()).toBe(5);
    c.t += 100_000;
    expect(r.perSecond()).toBe(0);
  });
});
