import type { CalibrationFeature, ConfidenceCalibration } from '../model/metadata.js';
import type { SampleSummary } from './uncertainty.js';

/** Extra per-image evidence besides the MC-dropout figures, reported in `uncertainty` by name. */
export interface Evidence {
  /** min over classes of the squared Mahalanobis distance of the penultimate features, / dim. */
  featureDistance?: number;
  /** Share of pixels above 0.25. */
  inkFraction?: number;
  /** Stroke shape (runtime/engine/stroke-shape.ts): edge length per ink mass. */
  edgeDensity?: number;
  /** Stroke shape: share of ink pixels inside a filled area. */
  interiorShare?: number;
  /**
   * With a calibration `logitScale` ≠ 1: the MC figures the mapping read, at that scale of the
   * logits (the served `probability`, entropies and MI stay those of the served distribution).
   */
  scaledMaxProbability?: number;
  scaledPredictiveEntropy?: number;
  scaledMutualInformation?: number;
}

/** The value of one calibration feature for an image; throws if the evidence it needs is missing. */
export function featureValue(name: CalibrationFeature, s: SampleSummary, e: Evidence): number {
  switch (name) {
    case 'maxProbability':
      return s.probability;
    case 'predictiveEntropy':
      return s.predictiveEntropy;
    case 'expectedEntropy':
      return s.expectedEntropy;
    case 'mutualInformation':
      return s.mutualInformation;
    case 'variationRatio':
      return s.variationRatio;
    case 'stdDev':
      return s.stdDev;
    case 'logFeatureDistance':
      if (e.featureDistance === undefined) throw new Error('calibration needs featureDistance, but the model has no feature density');
      return Math.log(1e-6 + e.featureDistance);
    case 'inkFraction':
      if (e.inkFraction === undefined) throw new Error('calibration needs inkFraction');
      return e.inkFraction;
    case 'edgeDensity':
      if (e.edgeDensity === undefined) throw new Error('calibration needs edgeDensity');
      return e.edgeDensity;
    case 'interiorShare':
      if (e.interiorShare === undefined) throw new Error('calibration needs interiorShare');
      return e.interiorShare;
  }
}

/** The figures reported as evidence when the mapping read the MC samples at another logit scale. */
export function scaledEvidence(s: SampleSummary): Pick<Evidence, 'scaledMaxProbability' | 'scaledPredictiveEntropy' | 'scaledMutualInformation'> {
  return { scaledMaxProbability: s.probability, scaledPredictiveEntropy: s.predictiveEntropy, scaledMutualInformation: s.mutualInformation };
}

export const sigmoid = (z: number): number => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

/** A logistic stage's linear score on standardised feature values. Pure. */
export function linearScore(fit: { intercept: number; coefficients: number[]; mean: number[]; scale: number[] }, values: ArrayLike<number>): number {
  let z = fit.intercept;
  for (let i = 0; i < fit.coefficients.length; i++) z += (fit.coefficients[i] * (values[i] - fit.mean[i])) / fit.scale[i];
  return z;
}

/**
 * Estimated probability that the answer is right from the mapping's feature values: sigmoid of
 * the score, times P(digit) for a two-stage mapping (model/metadata.ts). Pure.
 */
export function confidenceFromValues(cal: Pick<ConfidenceCalibration, 'intercept' | 'coefficients' | 'mean' | 'scale' | 'digit'>, values: ArrayLike<number>): number {
  const right = sigmoid(linearScore(cal, values));
  return cal.digit ? right * sigmoid(linearScore(cal.digit, values) + cal.digit.priorShift) : right;
}

/** Estimated probability that the answer is right, from the calibrated logistic mapping. Pure. */
export function confidenceOf(cal: ConfidenceCalibration, s: SampleSummary, e: Evidence): number {
  return confidenceFromValues(
    cal,
    cal.features.map((f) => featureValue(f, s, e)),
  );
}

/**
 * The served verdict on an answer: reliable when its confidence reaches the threshold calibrated
 * with the mapping (metadata inference.reliabilityThreshold, or RELIABILITY_THRESHOLD). Pure.
 */
export function isReliable(confidence: number, threshold: number): boolean {
  return confidence >= threshold;
}
