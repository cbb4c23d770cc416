import { ASSUMED_NON_DIGIT_SHARE, fitConfidenceMapping, fitLogistic, lowestReliableThreshold, solve } from '../../../../runtime/train/calibrate.js';
import { confidenceFromValues, sigmoid } from '../../../../runtime/engine/confidence.js';

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

describe('fitConfidenceMapping', () => {
  // feature 0 ranks right above wrong among digits (overlapping); feature 1 tells digits from
  // non-digits and says nothing about right vs wrong, but one logistic over everything learns it as
  // "wrong" (the non-digits are wrong answers) and lets it blur the ranking of the digits
  const rows: number[][] = [];
  const right: boolean[] = [];
  const isDigit: boolean[] = [];
  let u = 0.25;
  let v = 0.5;
  for (let i = 0; i < 3000; i++) {
    u = (u + 0.6180339887) % 1;
    v = (v + 0.4142135624) % 1;
    const kind = i % 10 < 7 ? 'right' : i % 10 < 8 ? 'wrong' : 'nonDigit';
    const a = kind === 'right' ? 2 * u : kind === 'wrong' ? 2 * u - 1 : u;
    const b = kind === 'nonDigit' ? 1.5 + 2 * v : 2 * v;
    rows.push([a, b]);
    right.push(kind === 'right');
    isDigit.push(kind !== 'nonDigit');
  }

  it('fits P(right | digit) on the digits alone and P(digit) on every row, shifted to the assumed non-digit share', () => {
    const fit = fitConfidenceMapping(rows, right, isDigit);
    expect(fit.method).toBe('logistic-two-stage');
    const onDigits = fitLogistic(rows.filter((_, i) => isDigit[i]), right.filter((_, i) => isDigit[i]));
    expect(fit.coefficients).toEqual(onDigits.coefficients);
    expect(fit.intercept).toBe(onDigits.intercept);
    expect(fit.digit?.coefficients).toEqual(fitLogistic(rows, isDigit).coefficients);
    expect(fit.nonDigitShare).toBeCloseTo(0.2, 12);
    expect(fit.digit?.assumedNonDigitShare).toBe(ASSUMED_NON_DIGIT_SHARE);
    expect(fit.digit?.priorShift).toBeCloseTo(Math.log(0.95 / 0.05) - Math.log(0.8 / 0.2), 12);
  });

  it('ranks right above wrong digits better than one logistic over digits and non-digits together', () => {
    const two = fitConfidenceMapping(rows, right, isDigit);
    const one = fitLogistic(rows, right);
    const digits = rows.filter((_, i) => isDigit[i]);
    const ok = right.filter((_, i) => isDigit[i]);
    // share of (right, wrong) pairs ordered correctly
    const pairs = (c: number[]): number => {
      let good = 0;
      let all = 0;
      c.forEach((ci, i) => ok[i] && c.forEach((cj, j) => !ok[j] && ((all += 1), (good += ci > cj ? 1 : ci === cj ? 0.5 : 0))));
      return good / all;
    };
    const twoAuc = pairs(digits.map((x) => confidenceFromValues(two, x)));
    const oneAuc = pairs(digits.map((x) => confidenceFromValues(one, x)));
    expect(twoAuc).toBeGreaterThan(oneAuc + 0.005);
    // and still tells non-digits apart: every non-digit below the right digits' median
    const nonDigitMax = Math.max(...rows.filter((_, i) => !isDigit[i]).map((x) => confidenceFromValues(two, x)));
    const rightConf = rows.filter((_, i) => right[i]).map((x) => confidenceFromValues(two, x)).sort((p, q) => p - q);
    expect(nonDigitMax).toBeLessThan(rightConf[Math.floor(rightConf.length / 2)]);
  });

  it('is one logistic on the digits when there are no non-digits', () => {
    const digitRows = rows.filter((_, i) => isDigit[i]);
    const fit = fitConfidenceMapping(digitRows, right.filter((_, i) => isDigit[i]), digitRows.map(() => true));
    expect(fit.method).toBe('logistic');
    expect(fit.digit).toBeUndefined();
    expect(fit.nonDigitShare).toBe(0);
  });

  it('refuses a non-digit labelled right and mismatched labels', () => {
    expect(() => fitConfidenceMapping([[0], [1]], [true, true], [true, false])).toThrow(/non-digit/);
    expect(() => fitConfidenceMapping([[0], [1]], [true], [true, true])).toThrow(RangeError);
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
