import { fitLogistic, lowestReliableThreshold, solve } from '../../../../runtime/train/calibrate.js';
import { sigmoid } from '../../../../runtime/engine/confidence.js';

describe('solve', () => {
  it('solves a small linear system', () => {
    const x = solve([[4, 1], [1, 3]], [1, 2]);
    expect(x[0]).toBeCloseTo(1 / 11, 12);
    expect(x[1]).toBeCloseTo(7 / 11, 12);
  });
  it('refuses a singular system', () => {
    expect(() => solve([[1, 2], [2, 4]], [1, 2])).toThrow(/singular/);
  });
});

describe('fitLogistic', () => {
  it('recovers the coefficients that generated the labels', () => {
    // deterministic data: y = 1 exactly when the true probability exceeds a quasi-random level
    const x: number[][] = [];
    const y: boolean[] = [];
    let u = 0.5;
    for (let i = 0; i < 4000; i++) {
      const a = (i % 100) / 25 - 2;
      const b = ((i * 37) % 101) / 25 - 2;
      u = (u + 0.6180339887) % 1;
      x.push([a, b]);
      y.push(u < sigmoid(1 + 2 * a - b));
    }
    const fit = fitLogistic(x, y, 0);
    const w = fit.coefficients.map((c, j) => c / fit.scale[j]);
    const b = fit.intercept - fit.coefficients.reduce((s, c, j) => s + (c * fit.mean[j]) / fit.scale[j], 0);
    expect(w[0]).toBeCloseTo(2, 0);
    expect(w[1]).toBeCloseTo(-1, 0);
    expect(b).toBeCloseTo(1, 0);
  });

  it('stays finite on separable data thanks to the L2 penalty', () => {
    const fit = fitLogistic([[0], [1], [2], [3]], [false, false, true, true]);
    expect(Number.isFinite(fit.coefficients[0])).toBe(true);
    expect(fit.coefficients[0]).toBeGreaterThan(0);
  });

  it('standardises constant features without dividing by zero', () => {
    const fit = fitLogistic([[1, 5], [2, 5], [3, 5]], [false, true, true]);
    expect(fit.scale[1]).toBe(1);
  });

  it('rejects mismatched input', () => {
    expect(() => fitLogistic([], [])).toThrow(RangeError);
    expect(() => fitLogistic([[1]], [true, false])).toThrow(RangeError);
  });
});

describe('lowestReliableThreshold', () => {
  it('is the lowest confidence at which the answers at or above it reach the precision', () => {
    const conf = [0.99, 0.95, 0.9, 0.8, 0.7, 0.6];
    const ok = [true, true, true, true, false, true];
    // ≥0.8: 4/4; ≥0.7: 4/5 = 0.8; ≥0.6: 5/6
    expect(lowestReliableThreshold(conf, ok, 0.99)).toEqual({ threshold: 0.8, coverage: 4 / 6, precision: 1 });
    expect(lowestReliableThreshold(conf, ok, 0.8).threshold).toBe(0.6);
  });

  it('treats tied confidences as one block', () => {
    // at 0.9 the tie block holds one wrong answer: ≥0.9 is 2/3, so only ≥0.95 qualifies
    expect(lowestReliableThreshold([0.95, 0.9, 0.9], [true, true, false], 0.99).threshold).toBe(0.95);
  });

  it('gives the lowest confidence when everything is right, and 1 with coverage 0 when nothing qualifies', () => {
    expect(lowestReliableThreshold([0.3, 0.6], [true, true]).threshold).toBe(0.3);
    expect(lowestReliableThreshold([0.3, 0.6], [false, false])).toEqual({ threshold: 1, coverage: 0, precision: 1 });
  });

  it('never returns a threshold whose reliable set misses the precision', () => {
    let s = 7;
    const rnd = (): number => (s = (s * 48271) % 2147483647) / 2147483647;
    for (let trial = 0; trial < 50; trial++) {
      const conf = Array.from({ length: 60 }, () => Math.round(rnd() * 20) / 20);
      const ok = conf.map((c) => rnd() < c);
      const { threshold } = lowestReliableThreshold(conf, ok, 0.9);
      const rel = conf.map((c, i) => [c, ok[i]] as const).filter(([c]) => c >= threshold);
      if (rel.length) expect(rel.filter(([, o]) => o).length / rel.length).toBeGreaterThanOrEqual(0.9);
      // and no lower observed confidence would do
      for (const t of conf.filter((c) => c < threshold)) {
        const r2 = conf.map((c, i) => [c, ok[i]] as const).filter(([c]) => c >= t);
        expect(r2.filter(([, o]) => o).length / r2.length).toBeLessThan(0.9);
      }
    }
  });
});
