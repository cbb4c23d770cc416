import * as tf from '@tensorflow/tfjs';
import type { Engine } from '../engine/engine.js';
import { confidenceFromValues, featureValue, confidenceOf, type Evidence } from '../engine/confidence.js';
import { pixelEvidence } from '../engine/pixel-evidence.js';
import { entropy, type SampleSummary } from '../engine/uncertainty.js';
import type { ImagePrediction } from '../engine/types.js';
import { CALIBRATION_FEATURES, type CalibrationFeature } from '../model/metadata.js';
import { fitConfidenceMapping, fitLogistic, lowestReliableThreshold } from './calibrate.js';
import type { ImageSet } from './datasets.js';
import { accuracy, auroc, expectedCalibrationError, negativeLogLikelihood } from './metrics.js';

/**
 * What the evaluation keeps of one served answer, plus what the ablation's mappings read. A model
 * served with uncertainty 'none' answers with one pass: its `mc`, `mc1` and `det` are that pass's
 * figures (MI 0), and the ablation rows that need MC dropout are not computed for it.
 */
export interface Scored {
  digit: number;
  probability: number;
  /** P(true label) of the served distribution (NaN for non-digits). */
  pTrue: number;
  confidence: number;
  reliable: boolean;
  /** The MC figures the served mapping reads (at its logit scale). */
  mc: { maxProbability: number; predictiveEntropy: number; expectedEntropy: number; mutualInformation: number; variationRatio: number; stdDev: number };
  /** The same image's MC figures at T = 1 (one dropout sample; at the same logit scale). */
  mc1: Scored['mc'];
  /** One pass with dropout off (at the same logit scale): max probability and entropy. */
  det: { maxProbability: number; entropy: number };
  /** Evidence besides the network's outputs: feature distance, ink, stroke shape. */
  evidence: Evidence;
  /** Served expected entropy / predictive entropy (the split the API reports). */
  served: { predictiveEntropy: number; expectedEntropy: number; mutualInformation: number };
}

const mcOf = (p: ImagePrediction): Scored['mc'] => {
  const e = p.evidence;
  // the mapping reads the figures at its logit scale; when that is 1 they are the served ones
  const scaled = e.scaledMaxProbability !== undefined;
  return {
    maxProbability: scaled ? e.scaledMaxProbability : p.probability,
    predictiveEntropy: scaled ? e.scaledPredictiveEntropy : p.predictiveEntropy,
    mutualInformation: scaled ? e.scaledMutualInformation : p.mutualInformation,
    expectedEntropy: scaled ? Math.max(0, e.scaledPredictiveEntropy - e.scaledMutualInformation) : p.expectedEntropy,
    variationRatio: p.variationRatio,
    stdDev: p.stdDev,
  };
};

/**
 * Logits of one pass with every Dropout off (the layers before the last, then its kernel and bias),
 * of a Layers model given the engine's [0, 1] pixels (reshaped and scaled to the model's input).
 */
async function deterministicLogits(engine: Engine, x: Float32Array, n: number): Promise<Float32Array> {
  const model = engine.model as unknown as tf.LayersModel;
  const { shape, range } = engine.info.metadata.input;
  // a functional model (an imported Keras one) lists its InputLayer, which takes no input
  const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
  const last = layers[layers.length - 1];
  const weights = last.getWeights();
  if (weights.length !== 2) throw new Error(`the evaluation reads logits from the last layer's kernel and bias; ${last.name} (${last.getClassName()}) has ${weights.length} weight tensors`);
  const xs = tf.tensor(range[1] === 1 ? x : x.map((v) => v * range[1]), [n, ...shape]);
  const z = tf.tidy(() => {
    let h: tf.Tensor = xs;
    for (const l of layers.slice(0, -1)) h = l.apply(h, { training: false }) as tf.Tensor;
    const [k, b] = weights;
    return tf.add(tf.matMul(tf.reshape(h, [n, -1]), k), b);
  });
  xs.dispose();
  const out = await z.data<'float32'>();
  z.dispose();
  return out as Float32Array;
}

function softmaxFigures(z: Float32Array, off: number, scale: number): { maxProbability: number; entropy: number } {
  let m = -Infinity;
  for (let k = 0; k < 10; k++) m = Math.max(m, z[off + k] * scale);
  const p = new Array<number>(10);
  let s = 0;
  for (let k = 0; k < 10; k++) s += p[k] = Math.exp(z[off + k] * scale - m);
  for (let k = 0; k < 10; k++) p[k] /= s;
  return { maxProbability: Math.max(...p), entropy: entropy(p) };
}

/**
 * Every image of `set` through the engine at T and at T = 1, and through one dropout-free pass,
 * in chunks (the engine disposes its tensors per step; the chunk bounds what one call holds).
 * A model served with uncertainty 'none' answers with one pass, which is all three.
 */
export async function scoreSet(engine: Engine, set: ImageSet, t: number, chunk = 250): Promise<Scored[]> {
  const out: Scored[] = [];
  const mcDropout = engine.info.uncertainty === 'mc-dropout';
  const scale = engine.info.metadata.calibration?.logitScale ?? 1;
  for (let s = 0; s < set.n; s += chunk) {
    const m = Math.min(chunk, set.n - s);
    const x = set.x.subarray(s * 784, (s + m) * 784);
    const full = await engine.predict(x, m, mcDropout ? t : 1);
    const one = mcDropout ? await engine.predict(x, m, 1) : full;
    const z = mcDropout ? await deterministicLogits(engine, Float32Array.from(x), m) : undefined;
    for (let i = 0; i < m; i++) {
      const p = full[i];
      const label = set.y[s + i];
      const pix = pixelEvidence(x, i * 784, 784, CALIBRATION_FEATURES);
      out.push({
        digit: p.digit,
        probability: p.probability,
        pTrue: label >= 0 ? p.probabilities[label] : NaN,
        confidence: p.confidence,
        reliable: p.reliable,
        mc: mcOf(p),
        mc1: mcOf(one[i]),
        det: z ? softmaxFigures(z, i * 10, scale) : { maxProbability: p.probability, entropy: p.predictiveEntropy },
        evidence: { ...pix, featureDistance: p.evidence.featureDistance },
        served: { predictiveEntropy: p.predictiveEntropy, expectedEntropy: p.expectedEntropy, mutualInformation: p.mutualInformation },
      });
    }
  }
  return out;
}

const r4 = (v: number): number => Number(v.toFixed(4));

/** Figures of the served answers on a labelled digit set (the aleatoric / epistemic split only with MC dropout). */
export function digitFigures(rows: Scored[], y: ArrayLike<number>, mcDropout = true): Record<string, number> {
  const right = rows.map((r, i) => r.digit === y[i]);
  const probs = new Float32Array(rows.length * 10);
  // NLL needs only P(true label): put it at the label's place
  rows.forEach((r, i) => (probs[i * 10 + y[i]] = r.pTrue));
  const rel = rows.filter((r) => r.reliable);
  const relRight = rows.filter((r, i) => r.reliable && right[i]).length;
  const nRight = right.filter(Boolean).length;
  const errors = rows.filter((r, i) => !right[i]);
  const mean = (v: number[]): number => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN);
  const figures: Record<string, number> = {
    images: rows.length,
    accuracy: r4(accuracy(rows.map((r) => r.digit), y)),
    nll: r4(negativeLogLikelihood(probs, y, 10)),
    ece: r4(expectedCalibrationError(rows.map((r) => r.probability), right)),
    reliableCoverage: r4(rel.length / rows.length),
    reliablePrecision: rel.length ? r4(relRight / rel.length) : NaN,
    rightReliable: nRight ? r4(relRight / nRight) : NaN,
    confidenceEce: r4(expectedCalibrationError(rows.map((r) => r.confidence), right)),
  };
  if (!mcDropout) return figures;
  return {
    ...figures,
    // the aleatoric / epistemic split as served: means over the set and over its errors
    meanExpectedEntropy: r4(mean(rows.map((r) => r.served.expectedEntropy))),
    meanMutualInformation: r4(mean(rows.map((r) => r.served.mutualInformation))),
    errorsMeanExpectedEntropy: r4(mean(errors.map((r) => r.served.expectedEntropy))),
    errorsMeanMutualInformation: r4(mean(errors.map((r) => r.served.mutualInformation))),
  };
}

/** The ablation's mappings (#16 item 2): which figures each reads, and whether it needs MC dropout. */
export const ABLATION = {
  a: { label: 'all evidence, T = 30', mc: 'mc', needsMcDropout: true, features: ['maxProbability', 'predictiveEntropy', 'mutualInformation', 'logFeatureDistance', 'inkFraction', 'edgeDensity', 'interiorShare'] },
  b: { label: 'all evidence, T = 1', mc: 'mc1', needsMcDropout: true, features: ['maxProbability', 'predictiveEntropy', 'logFeatureDistance', 'inkFraction', 'edgeDensity', 'interiorShare'] },
  c: { label: 'without MC features (one dropout-free pass)', mc: 'det', needsMcDropout: false, features: ['maxProbability', 'predictiveEntropy', 'logFeatureDistance', 'inkFraction', 'edgeDensity', 'interiorShare'] },
  d: { label: 'MC features alone, T = 30', mc: 'mc', needsMcDropout: true, features: ['maxProbability', 'predictiveEntropy', 'mutualInformation'] },
} as const satisfies Record<string, { label: string; mc: 'mc' | 'mc1' | 'det'; needsMcDropout: boolean; features: CalibrationFeature[] }>;
export type AblationKey = keyof typeof ABLATION;

/** A mapping's label at the draws T the evaluation used (the labels name the served T = 30). */
export const ablationLabel = (key: AblationKey, t: number): string => ABLATION[key].label.replace('T = 30', `T = ${t}`);

/**
 * The features an ablation mapping reads for a model: all of them, less `logFeatureDistance` when
 * the model has no feature density (imported models); undefined when the row needs MC dropout and
 * the model is served without it.
 */
export function ablationFeatures(key: AblationKey, model: { mcDropout: boolean; featureDensity: boolean }): CalibrationFeature[] | undefined {
  if (ABLATION[key].needsMcDropout && !model.mcDropout) return undefined;
  return ABLATION[key].features.filter((f) => f !== 'logFeatureDistance' || model.featureDensity);
}

/** The value of an ablation feature for a row (the MC figures taken from the variant's source). */
export function ablationValue(key: AblationKey, f: CalibrationFeature, r: Scored): number {
  const src = ABLATION[key].mc;
  const s: SampleSummary =
    src === 'det'
      ? { digit: r.digit, probability: r.det.maxProbability, probabilities: [], predictiveEntropy: r.det.entropy, expectedEntropy: r.det.entropy, mutualInformation: 0, variationRatio: 0, stdDev: 0 }
      : { digit: r.digit, probability: r[src].maxProbability, probabilities: [], predictiveEntropy: r[src].predictiveEntropy, expectedEntropy: r[src].expectedEntropy, mutualInformation: r[src].mutualInformation, variationRatio: r[src].variationRatio, stdDev: r[src].stdDev };
  return featureValue(f, s, r.evidence);
}

/**
 * Fits an ablation mapping as the served one is fitted (runtime/train/calibrate.ts
 * fitConfidenceMapping: two stages when there are non-digit rows) on rows labelled right (true) or
 * not, `isDigit` telling digits from non-digits; `oneStage` fits the single logistic on all rows
 * that served mappings used before, for comparison.
 */
export function fitAblation(key: AblationKey, rows: Scored[], right: boolean[], isDigit: boolean[], features: CalibrationFeature[] = [...ABLATION[key].features], oneStage = false): (r: Scored) => number {
  const values = (r: Scored): number[] => features.map((f) => ablationValue(key, f, r));
  const x = rows.map(values);
  const fit = oneStage ? { method: 'logistic' as const, ...fitLogistic(x, right) } : fitConfidenceMapping(x, right, isDigit);
  return (r) => confidenceFromValues(fit, values(r));
}

/** Coverage of the answers at the lowest threshold with ≥ `precision` of the answers above it right (oracle threshold on the set itself). */
export function coverageAt(conf: number[], right: boolean[], precision = 0.99): number {
  return r4(lowestReliableThreshold(conf, right, precision).coverage);
}

export { auroc, confidenceOf, r4 };
