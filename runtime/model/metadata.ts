import { z } from 'zod';

/** Names of the per-image figures a confidence mapping may use (computed in runtime/engine/confidence.ts). */
export const CALIBRATION_FEATURES = [
  'maxProbability',
  'predictiveEntropy',
  'expectedEntropy',
  'mutualInformation',
  'variationRatio',
  'stdDev',
  'logFeatureDistance',
  'inkFraction',
  'edgeDensity',
  'interiorShare',
] as const;
export type CalibrationFeature = (typeof CALIBRATION_FEATURES)[number];

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const unit = finite.min(0).max(1);

/**
 * The digit stage of a two-stage mapping: a logistic regression on the same standardised features
 * estimating P(the image is a digit), fitted on digits against non-digits; `priorShift` is added to
 * its score, moving the fit set's non-digit share to the share assumed in traffic (Bayes' rule on
 * the odds: log((1 − assumed) / assumed) − log((1 − fit share) / fit share)).
 */
const digitStageSchema = z.object({
  mean: z.array(finite),
  scale: z.array(finite.positive()),
  coefficients: z.array(finite),
  intercept: finite,
  priorShift: finite,
  /** Share of non-digit images assumed among the images a deployment is sent. */
  assumedNonDigitShare: z.number().gt(0).lt(1),
});

/**
 * Logistic regression on standardised uncertainty figures, with the linear score
 * s(x) = intercept + Σ coefficients[i] · (feature[i] − mean[i]) / scale[i]:
 * - 'logistic': confidence = sigmoid(s(x)), one mapping fitted on digits and non-digits together;
 * - 'logistic-two-stage': confidence = P(digit) · P(right | digit) =
 *   sigmoid(s_digit(x) + digit.priorShift) · sigmoid(s(x)), the top-level coefficients fitted on
 *   digits only (right vs wrong answers), `digit` on digits vs non-digits. One mapping that must
 *   also reject non-digits lets the evidence that does that (density, stroke shape) outweigh the
 *   MC-dropout figures that rank right vs wrong answers among digits; two stages keep both.
 */
export const confidenceCalibrationSchema = z
  .object({
    method: z.enum(['logistic', 'logistic-two-stage']),
    features: z.array(z.enum(CALIBRATION_FEATURES)).min(1),
    mean: z.array(finite),
    scale: z.array(finite.positive()),
    coefficients: z.array(finite),
    intercept: finite,
    /** Share of non-digit images in the set the mapping was fitted on. */
    nonDigitShare: unit,
    /** MC samples T the mapping was fitted at. */
    samples: z.number().int().min(1).max(256),
    /**
     * The MC-dropout figures the mapping reads (maxProbability, predictiveEntropy, …) are computed
     * from each sample's logits × logitScale: a temperature of the evidence alone, apart from the
     * one folded into the served probabilities (absent = 1, the served probabilities themselves).
     */
    logitScale: finite.positive().optional(),
    /** 'logistic-two-stage' only: P(digit) on the same features. */
    digit: digitStageSchema.optional(),
    fitSet: z.string(),
  })
  .refine(
    (c) => c.mean.length === c.features.length && c.scale.length === c.features.length && c.coefficients.length === c.features.length,
    'features, mean, scale and coefficients must have the same length',
  )
  .refine((c) => (c.method === 'logistic-two-stage') === (c.digit !== undefined), "method 'logistic-two-stage' needs a digit stage, and only it has one")
  .refine(
    (c) => !c.digit || (c.digit.mean.length === c.features.length && c.digit.scale.length === c.features.length && c.digit.coefficients.length === c.features.length),
    "the digit stage's mean, scale and coefficients must have one entry per feature",
  );

/**
 * Class-conditional Gaussian with a shared covariance over features computed without dropout:
 * distance = min_c ‖W (z − μ_c)‖² / dim.
 */
export const featureDensitySchema = z
  .object({
    method: z.literal('mahalanobis-shared-covariance'),
    /**
     * Which features: 'penultimate' (the input of the last layer; the default when absent) or
     * 'conv-means' (the spatial mean of every Conv2D output before the first Dropout, concatenated).
     */
    source: z.enum(['penultimate', 'conv-means']).optional(),
    /** The layer(s) the features come from, for people. */
    layer: z.string(),
    dim: z.number().int().positive(),
    means: z.array(z.array(finite)),
    /** Row-major dim × dim whitening matrix W with Wᵀ W = Σ⁻¹. */
    whitening: z.array(finite),
  })
  .refine((d) => d.means.every((m) => m.length === d.dim) && d.whitening.length === d.dim * d.dim, 'density dimensions disagree');

export const modelMetadataSchema = z.object({
  name: z.string().min(1),
  version: z.string().min(1),
  createdAt: z.string().optional(),
  labels: z.array(z.string()).min(2),
  input: z.object({
    /** The model's input per image: 28×28×1, 28×28 or 784 flat (imported models; docs/models.md). */
    shape: z.union([z.tuple([z.literal(28), z.literal(28), z.literal(1)]), z.tuple([z.literal(28), z.literal(28)]), z.tuple([z.literal(784)])]),
    dtype: z.literal('float32'),
    /** Pixel scale the model reads: [0, 1], or [0, 255] (the engine multiplies by 255). */
    range: z.union([z.tuple([z.literal(0), z.literal(1)]), z.tuple([z.literal(0), z.literal(255)])]),
    polarity: z.literal('bright-on-dark'),
    description: z.string().optional(),
  }),
  inference: z.object({
    samples: z.number().int().min(1).max(256),
    reliabilityThreshold: unit,
  }),
  /**
   * Absent only in a version imported and not yet calibrated (runtime/import/convert.py's minimal
   * metadata): `confidence` is then the model's own top probability, uncalibrated, against
   * inference.reliabilityThreshold, until `npm run calibrate` fits a mapping (docs/models.md).
   */
  calibration: confidenceCalibrationSchema.optional(),
  evidence: z.object({ featureDensity: featureDensitySchema.optional() }).default({}),
  /**
   * Digests of the version's other files (model.json and every weight shard), checked when the
   * model is loaded: a corrupt or swapped file is refused before it is served. Written by
   * `npm run train`.
   */
  files: z.record(z.string(), z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.number().int().nonnegative() }).strict()).optional(),
  architecture: z.record(z.string(), z.unknown()).optional(),
  training: z.record(z.string(), z.unknown()).default({}),
  evaluation: z.record(z.string(), z.unknown()).default({}),
  /** Written by runtime/import/convert.py for a version converted from a Keras or SavedModel artifact. */
  imported: z
    .object({
      format: z.enum(['keras', 'savedmodel']),
      model: z.enum(['layers', 'graph']),
      uncertainty: z.enum(['mc-dropout', 'none']),
      from: z.string(),
    })
    .optional(),
});

export type ModelMetadata = z.infer<typeof modelMetadataSchema>;
export type ConfidenceCalibration = z.infer<typeof confidenceCalibrationSchema>;
export type FeatureDensity = z.infer<typeof featureDensitySchema>;

/** Validates a parsed metadata.json; throws an Error naming every bad field. */
export function parseMetadata(raw: unknown, where = 'metadata.json'): ModelMetadata {
  const r = modelMetadataSchema.safeParse(raw);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`invalid ${where}: ${issues}`);
  }
  return r.data;
}
