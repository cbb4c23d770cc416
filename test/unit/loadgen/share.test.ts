import { acceptanceInterval, binomialPmf } from '../../../hack/loadgen/share.js';

describe('the binomial acceptance interval for an observed traffic share', () => {
  test('the pmf sums to 1 and peaks at n·p', () => {
    const pmf = binomialPmf(400, 0.25);
    expect(pmf.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 10);
    expect(pmf.indexOf(Math.max(...pmf))).toBe(100);
    expect(binomialPmf(3, 0)).toEqual([1, 0, 0, 0]);
  });

  test('the interval holds all but alpha of the mass, centred on n·p, and tightens relative to n as n grows', () => {
    const n = 800;
    const p = 0.25;
    const alpha = 1e-6;
    const { lo, hi } = acceptanceInterval(n, p, alpha);
    const pmf = binomialPmf(n, p);
    const outside = pmf.slice(0, lo).reduce((a, b) => a + b, 0) + pmf.slice(hi + 1).reduce((a, b) => a + b, 0);
    expect(outside).toBeLessThanOrEqual(alpha);
    expect(lo).toBeLessThan(200);
    expect(hi).toBeGreaterThan(200);
    // about ±4.9 standard deviations (sd = sqrt(n p (1-p)) ≈ 12.2)
    expect(200 - lo).toBeGreaterThan(50);
    expect(200 - lo).toBeLessThan(70);
    const wide = acceptanceInterval(100, p, alpha);
    expect((wide.hi - wide.lo) / 100).toBeGreaterThan((hi - lo) / n);
  });

  test('a share from a different split falls outside: 1 canary pod of 3 is not 1 of 4', () => {
    const { lo, hi } = acceptanceInterval(800, 0.25, 1e-6);
    const third = Math.round(800 / 3);
    expect(third < lo || third > hi).toBe(true);
  });
});
