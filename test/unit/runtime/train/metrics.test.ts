import { accuracy, auroc, expectedCalibrationError, negativeLogLikelihood } from '../../../../runtime/train/metrics.js';

describe('auroc', () => {
  it('is 1 for perfect separation, 0 for inverted, 0.5 for identical scores', () => {
    expect(auroc([3, 4, 5], [0, 1, 2])).toBe(1);
    expect(auroc([0, 1], [2, 3])).toBe(0);
    expect(auroc([1, 1], [1, 1, 1])).toBe(0.5);
  });

  it('counts pairs: P(positive > negative) with ties as one half', () => {
    // pairs: (2>1) (2>1) (2=2 -> 0.5) (3>1) (3>1) (3>2) ... positives [2,3], negatives [1,1,2]
    expect(auroc([2, 3], [1, 1, 2])).toBeCloseTo(5.5 / 6, 12);
  });

  it('matches the brute-force pair count on random data', () => {
    let s = 1;
    const rnd = (): number => ((s = (s * 16807) % 2147483647) % 20) / 4;
    const p = Array.from({ length: 40 }, rnd);
    const n = Array.from({ length: 31 }, rnd);
    let pairs = 0;
    for (const a of p) for (const b of n) pairs += a > b ? 1 : a === b ? 0.5 : 0;
    expect(auroc(p, n)).toBeCloseTo(pairs / (40 * 31), 12);
  });

  it('needs both classes', () => {
    expect(() => auroc([], [1])).toThrow(RangeError);
    expect(() => auroc([1], [])).toThrow(RangeError);
  });
});

describe('expectedCalibrationError', () => {
  it('is 0 when confidence equals accuracy in every bin', () => {
    expect(expectedCalibrationError([1, 1, 0.5, 0.5], [true, true, true, false])).toBe(0);
  });

  it('weights each bin by its share of answers', () => {
    // bin of 0.9 (2 answers, 1 right: gap 0.4), bin of 0.2 (2 answers, none right: gap 0.2)
    expect(expectedCalibrationError([0.9, 0.9, 0.2, 0.2], [true, false, false, false])).toBeCloseTo(0.5 * 0.4 + 0.5 * 0.2, 12);
  });

  it('puts confidence 1 in the top bin and handles an empty input', () => {
    expect(expectedCalibrationError([1], [false], 10)).toBe(1);
    expect(expectedCalibrationError([], [])).toBe(0);
  });
});

describe('negativeLogLikelihood and accuracy', () => {
  it('averages −log p(true label), floored', () => {
    expect(negativeLogLikelihood([0.5, 0.5, 0.25, 0.75], [0, 1], 2)).toBeCloseTo((Math.log(2) + Math.log(4 / 3)) / 2, 12);
    expect(negativeLogLikelihood([1, 0], [1], 2)).toBeCloseTo(-Math.log(1e-12), 6);
  });

  it('counts matches', () => {
    expect(accuracy([1, 2, 3, 4], [1, 2, 0, 4])).toBe(0.75);
  });
});
