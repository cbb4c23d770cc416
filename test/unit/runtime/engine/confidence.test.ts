import fc from 'fast-check';
import { confidenceOf, featureValue, isReliable, sigmoid } from '../../../../runtime/engine/confidence.js';
import { distanceFromWhitened, featureDistance, inkFraction } from '../../../../runtime/engine/feature-density.js';
import type { SampleSummary } from '../../../../runtime/engine/uncertainty.js';
import type { ConfidenceCalibration, FeatureDensity } from '../../../../runtime/model/metadata.js';

const summary: SampleSummary = {
  digit: 3,
  probability: 0.9,
  probabilities: [0, 0, 0, 0.9, 0.1, 0, 0, 0, 0, 0],
  predictiveEntropy: 0.33,
  expectedEntropy: 0.3,
  mutualInformation: 0.03,
  variationRatio: 0.1,
  stdDev: 0.05,
};

describe('featureValue', () => {
  it('reads every MC-dropout figure and the evidence by name', () => {
    const e = { featureDistance: Math.E - 1e-6, inkFraction: 0.2 };
    expect(featureValue('maxProbability', summary, e)).toBe(0.9);
    expect(featureValue('predictiveEntropy', summary, e)).toBe(0.33);
    expect(featureValue('expectedEntropy', summary, e)).toBe(0.3);
    expect(featureValue('mutualInformation', summary, e)).toBe(0.03);
    expect(featureValue('variationRatio', summary, e)).toBe(0.1);
    expect(featureValue('stdDev', summary, e)).toBe(0.05);
    expect(featureValue('logFeatureDistance', summary, e)).toBeCloseTo(1, 9);
    expect(featureValue('inkFraction', summary, e)).toBe(0.2);
  });

  it('refuses a feature whose evidence is missing', () => {
    expect(() => featureValue('logFeatureDistance', summary, {})).toThrow(/featureDistance/);
    expect(() => featureValue('inkFraction', summary, {})).toThrow(/inkFraction/);
  });
});

describe('confidenceOf', () => {
  const cal: ConfidenceCalibration = {
    method: 'logistic',
    features: ['maxProbability', 'mutualInformation'],
    mean: [0.5, 0.1],
    scale: [0.25, 0.05],
    coefficients: [2, -1],
    intercept: 0.5,
    nonDigitShare: 0.5,
    samples: 30,
    fitSet: 'test',
  };

  it('is the sigmoid of the standardised linear score', () => {
    const z = 0.5 + (2 * (0.9 - 0.5)) / 0.25 - (1 * (0.03 - 0.1)) / 0.05;
    expect(confidenceOf(cal, summary, {})).toBeCloseTo(1 / (1 + Math.exp(-z)), 12);
  });

  it('of a two-stage mapping is P(right | digit) times P(digit) with its prior shift', () => {
    const digit = { mean: [0.5, 0.1], scale: [0.25, 0.05], coefficients: [1, -3], intercept: 1, priorShift: 2.5, assumedNonDigitShare: 0.05 };
    const two: ConfidenceCalibration = { ...cal, method: 'logistic-two-stage', digit };
    const right = confidenceOf(cal, summary, {});
    const zDigit = 1 + (1 * (0.9 - 0.5)) / 0.25 - (3 * (0.03 - 0.1)) / 0.05 + 2.5;
    expect(confidenceOf(two, summary, {})).toBeCloseTo(right / (1 + Math.exp(-zDigit)), 12);
    // a non-digit-like image (the digit stage's score far below 0) gets no confidence, however sure its answer
    expect(confidenceOf({ ...two, digit: { ...digit, intercept: -40 } }, summary, {})).toBeLessThan(1e-12);
    expect(confidenceOf(two, summary, {})).toBeLessThan(right);
  });

  it('falls as mutual information rises', () => {
    expect(confidenceOf(cal, { ...summary, mutualInformation: 0.5 }, {})).toBeLessThan(confidenceOf(cal, summary, {}));
  });

  it('uses a sigmoid that is stable for large arguments', () => {
    expect(sigmoid(1000)).toBe(1);
    expect(sigmoid(-1000)).toBe(0);
    expect(sigmoid(0)).toBe(0.5);
  });
});

describe('featureDistance', () => {
  const density: FeatureDensity = { method: 'mahalanobis-shared-covariance', layer: 'd', dim: 2, means: [[0, 0], [10, 0]], whitening: [0.5, 0, 0, 2] };

  it('is the squared whitened distance to the nearest class mean, over dim', () => {
    expect(featureDistance(density, [0, 0])).toBe(0);
    // nearest is class 1: diff (-1, 1) -> W diff = (-0.5, 2) -> 4.25 / 2
    expect(featureDistance(density, [9, 1])).toBeCloseTo(4.25 / 2, 12);
    expect(featureDistance(density, [7, 9, 1], 1)).toBeCloseTo(4.25 / 2, 12);
  });

  it('equals min_c ‖W (z − μ_c)‖² / dim computed directly, for any W, means and z', () => {
    const dim = 4;
    const vec = fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: dim, maxLength: dim });
    fc.assert(
      fc.property(fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: dim * dim, maxLength: dim * dim }), fc.array(vec, { minLength: 1, maxLength: 5 }), vec, (whitening, means, z) => {
        const d: FeatureDensity = { method: 'mahalanobis-shared-covariance', layer: 'x', dim, means, whitening };
        const direct = Math.min(
          ...means.map((mu) => {
            let s = 0;
            for (let i = 0; i < dim; i++) {
              let w = 0;
              for (let j = 0; j < dim; j++) w += whitening[i * dim + j] * (z[j] - mu[j]);
              s += w * w;
            }
            return s / dim;
          }),
        );
        expect(featureDistance(d, z)).toBeCloseTo(direct, 6);
        // the engine's form: W z given (at an offset), the nearest whitened mean found here
        const wz = Array.from({ length: dim }, (_, i) => z.reduce((a, v, j) => a + whitening[i * dim + j] * v, 0));
        expect(distanceFromWhitened(d, [7, ...wz], 1)).toBeCloseTo(direct, 6);
      }),
    );
  });
});

describe('inkFraction', () => {
  it('counts pixels above 0.25', () => {
    expect(inkFraction([0, 0.25, 0.26, 1], 0, 4)).toBe(0.5);
    expect(inkFraction([1, 1, 0, 0, 0], 2, 3)).toBe(0);
  });
});

describe('isReliable', () => {
  it('is the served verdict: confidence at or above the threshold', () => {
    expect(isReliable(0.9, 0.9)).toBe(true);
    expect(isReliable(0.8999, 0.9)).toBe(false);
    fc.assert(fc.property(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (c, t) => isReliable(c, t) === c >= t));
  });
});
