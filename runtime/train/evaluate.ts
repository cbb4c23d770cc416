import type * as tf from '@tensorflow/tfjs';
import { confidenceOf, featureValue, type Evidence } from '../engine/confidence.js';
import { featureDistance } from '../engine/feature-density.js';
import { pixelEvidence } from '../engine/pixel-evidence.js';
import type { SampleSummary } from '../engine/uncertainty.js';
import { CALIBRATION_FEATURES, type CalibrationFeature, type ConfidenceCalibration, type FeatureDensity } from '../model/metadata.js';
import { fitConfidenceMapping, fitLogistic, lowestReliableThreshold, twoStageNote } from './calibrate.js';
import type { ImageSet } from './datasets.js';
import { fitFeatureDensity } from './density-fit.js';
import { accuracy, auroc, expectedCalibrationError, negativeLogLikelihood } from './metrics.js';
import type { FeatureSource } from '../engine/mc-dropout.js';
import { predictSet, type SetPrediction } from './predict-set.js';
import { fitAndFoldTemperature } from './temperature.js';

export const DEFAULT_CALIBRATION_FEATURES: CalibrationFeature[] = ['maxProbability', 'predictiveEntropy', 'mutualInformation', 'logFeatureDistance', 'inkFraction', 'edgeDensity', 'interiorShare'];

export interface EvaluationInput {
  model: tf.LayersModel;
  train: ImageSet;
  heldOut: ImageSet;
  /** Non-digits the confidence mapping is fitted on (Fashion-MNIST train). */
  oodFit?: ImageSet;
  /** Non-digits it is evaluated on (Fashion-MNIST t10k). */
  oodEval?: ImageSet;
  /** Further never-seen non-digit sets, evaluated only. */
  extraOod?: Record<string, ImageSet>;
  /**
   * Shifted digits the confidence mapping is also fitted on (labelled like the held-out digits:
   * right when the answer is the label): validation digits of the fit half under some of the
   * shift kinds of runtime/train/shifts.ts, so that unusual-but-right digits can stay reliable.
   */
  fitShifts?: { set: ImageSet; kinds: readonly string[]; note: string };
  samples: number;
  seed: number;
  features?: CalibrationFeature[];
  /** Fit a temperature on the calibration half of the held-out digits and fold it into the model (default true). */
  temperature?: boolean;
  /** The lowest temperature the fit may choose (default MIN_TEMPERATURE). */
  minTemperature?: number;
  /**
   * Logit scale of the MC figures the confidence mapping reads (calibration.logitScale): a number,
   * or undefined to choose it from LOGIT_SCALES by the mapping's log-loss on its fit set.
   */
  logitScale?: number;
  /**
   * MC draws of the held-out set the accuracy, NLL and ECE are averaged over (default 10): one
   * draw of T = 30 samples moves the count of errors by ±2–3 on near-ties.
   */
  draws?: number;
  /** The features of the density behind `logFeatureDistance` (default 'conv-means'). */
  densitySource?: FeatureSource;
  log: (line: string) => void;
}

interface Scored {
  /** The served summary (its digit is the answer). */
  s: SampleSummary;
  /** The summary the confidence mapping reads (at the calibration's logit scale). */
  r: SampleSummary;
  e: Evidence;
}

/**
 * Logit scales tried for the confidence mapping's MC figures: 1 (the served distribution) down to
 * 0.0002, ×1.6 apart. The scale multiplies logits that already carry the folded temperature, which
 * can be as small as 0.0045 (run W3, whose fit log-loss still fell at the old floor of 0.002).
 */
export const LOGIT_SCALES = Array.from({ length: 19 }, (_, i) => Number((0.0002 * 5000 ** (i / 18)).toPrecision(2)));

const r4 = (v: number): number => Number(v.toFixed(4));

function score(p: SetPrediction, set: ImageSet, density: FeatureDensity): Scored[] {
  return p.summaries.map((s, i) => ({ s, r: p.scaled[i], e: { ...pixelEvidence(set.x, i * 784, 784, CALIBRATION_FEATURES), featureDistance: featureDistance(density, p.features, i * p.dim) } }));
}

/** Mean log-loss of a fitted mapping on its rows. */
function logLoss(cal: ConfidenceCalibration, rows: Scored[], y: boolean[]): number {
  let sum = 0;
  rows.forEach((x, i) => {
    const c = confidenceOf(cal, x.r, x.e);
    sum -= Math.log(Math.max(1e-12, y[i] ? c : 1 - c));
  });
  return sum / rows.length;
}

function subset(set: ImageSet, keep: (i: number) => boolean): ImageSet {
  const idx = Array.from({ length: set.n }, (_, i) => i).filter(keep);
  const x = new Float32Array(idx.length * 784);
  idx.forEach((k, j) => x.set(set.x.subarray(k * 784, (k + 1) * 784), j * 784));
  return { x, y: Int32Array.from(idx, (k) => set.y[k]), n: idx.length };
}

/** Per-evidence OOD AUROC (digits positive, scores oriented so higher = more digit-like). */
function oodAurocs(digits: Scored[], ood: Scored[], conf?: (x: Scored) => number): Record<string, number> {
  const fig = (f: (x: Scored) => number): number => r4(auroc(digits.map(f), ood.map(f)));
  const out: Record<string, number> = {
    maxProbability: fig((x) => x.s.probability),
    predictiveEntropy: fig((x) => -x.s.predictiveEntropy),
    mutualInformation: fig((x) => -x.s.mutualInformation),
    featureDistance: fig((x) => -(x.e.featureDistance ?? 0)),
  };
  if (conf) out.confidence = fig(conf);
  return out;
}

interface HeldOutFigures {
  accuracy: number;
  nll: number;
  ece: number;
  errors: number;
  half: { accuracy: number; nll: number; ece: number };
}

/** Accuracy, NLL and ECE of one MC draw over the held-out digits, and over the subset `idx`. */
export function heldOutFigures(summaries: SampleSummary[], labels: ArrayLike<number>, idx: number[]): HeldOutFigures {
  const figures = (rows: number[]): { accuracy: number; nll: number; ece: number } => {
    const probs = new Float32Array(rows.length * 10);
    rows.forEach((k, j) => probs.set(summaries[k].probabilities, j * 10));
    const y = rows.map((k) => labels[k]);
    return {
      accuracy: accuracy(rows.map((k) => summaries[k].digit), y),
      nll: negativeLogLikelihood(probs, y, 10),
      ece: expectedCalibrationError(rows.map((k) => summaries[k].probability), rows.map((k) => summaries[k].digit === labels[k])),
    };
  };
  const all = figures(summaries.map((_, i) => i));
  return { ...all, errors: summaries.filter((x, i) => x.digit !== labels[i]).length, half: figures(idx) };
}

/**
 * Evaluates a trained serving model with the engine's own sampler and fits what the engine needs:
 * the feature density (on training digits), the confidence mapping (on half of the held-out digits,
 * alternate images per class, mixed 50/50 with non-digits from `oodFit`) and the reliability
 * threshold; figures on the other half of the held-out digits and on `oodEval`.
 */
export async function evaluateModel(inp: EvaluationInput): Promise<{ density: FeatureDensity; calibration: ConfidenceCalibration; threshold: number; evaluation: Record<string, unknown> }> {
  const T = inp.samples;
  const features = inp.features ?? DEFAULT_CALIBRATION_FEATURES;
  const source = inp.densitySource ?? 'conv-means';
  inp.log(`evaluating at T=${T}: training digits for the feature density (${source})`);
  const predictSetF = (x: Float32Array, n: number, t: number, seed: number, scale = 1): Promise<SetPrediction> => predictSet(inp.model, x, n, t, seed, scale, source);
  const trainPred = await predictSetF(inp.train.x, inp.train.n, 1, inp.seed);
  const layers = source === 'conv-means' ? `${inp.model.layers.filter((l) => l.getClassName() === 'Conv2D').map((l) => l.name).join(', ')}: spatial mean of each channel` : inp.model.layers[inp.model.layers.length - 2].name;
  const density: FeatureDensity = { ...fitFeatureDensity(trainPred.features, inp.train.y, trainPred.dim, 10, layers), source };

  // alternate held-out images (per class, by position): half 0 fits the temperature and the
  // confidence mapping, half 1 only evaluates them
  const pos = new Map<number, number>();
  const half = Array.from({ length: inp.heldOut.n }, (_, i) => {
    const c = inp.heldOut.y[i];
    const k = pos.get(c) ?? 0;
    pos.set(c, k + 1);
    return k % 2;
  });
  let temperature: Awaited<ReturnType<typeof fitAndFoldTemperature>> | undefined;
  if (inp.temperature !== false) {
    temperature = await fitAndFoldTemperature(inp.model, subset(inp.heldOut, (i) => half[i] === 0), T, inp.seed + 5, inp.minTemperature);
    inp.log(`temperature ${temperature.temperature} (NLL on the fit half ${temperature.nllBefore.toFixed(4)} -> ${temperature.nllAfter.toFixed(4)})`);
  }
  const useful = features.filter((f) => f !== 'logFeatureDistance' || density);
  const fitN = inp.oodFit && inp.oodEval ? Math.min(inp.oodFit.n, half.filter((h) => h === 0).length) : 0;
  const oodFitSet = inp.oodFit && fitN > 0 ? subset(inp.oodFit, (i) => i < fitN) : undefined;
  let logitScale = inp.logitScale ?? 1;
  const scaleSearch: { logitScale: number; fitLogLoss: number }[] = [];
  if (oodFitSet && inp.logitScale === undefined) {
    // the MC figures' own temperature: the scale whose mapping fits its fit set best (log-loss)
    inp.log(`choosing the logit scale of the confidence mapping's MC figures (${LOGIT_SCALES.length} scales)`);
    const digitsFitSet = subset(inp.heldOut, (i) => half[i] === 0);
    const correctOf = (p: SetPrediction): boolean[] => p.summaries.map((x, i) => x.digit === digitsFitSet.y[i]);
    for (const scale of LOGIT_SCALES) {
      const dp = await predictSetF(digitsFitSet.x, digitsFitSet.n, T, inp.seed + 7, scale);
      const rows = [...score(dp, digitsFitSet, density), ...score(await predictSetF(oodFitSet.x, oodFitSet.n, T, inp.seed + 8, scale), oodFitSet, density)];
      const y = [...correctOf(dp), ...new Array<boolean>(oodFitSet.n).fill(false)];
      const isDigit = [...new Array<boolean>(dp.summaries.length).fill(true), ...new Array<boolean>(oodFitSet.n).fill(false)];
      if (inp.fitShifts) {
        const sh = inp.fitShifts.set;
        const sp = await predictSetF(sh.x, sh.n, T, inp.seed + 9, scale);
        rows.push(...score(sp, sh, density));
        y.push(...sp.summaries.map((x, i) => x.digit === sh.y[i]));
        isDigit.push(...new Array<boolean>(sh.n).fill(true));
      }
      const cal: ConfidenceCalibration = { features: useful, ...fitConfidenceMapping(rows.map((r) => useful.map((f) => featureValue(f, r.r, r.e))), y, isDigit), samples: T, fitSet: '' };
      scaleSearch.push({ logitScale: scale, fitLogLoss: r4(logLoss(cal, rows, y)) });
    }
    logitScale = scaleSearch.reduce((a, b) => (b.fitLogLoss < a.fitLogLoss ? b : a)).logitScale;
    inp.log(`logit scale ${logitScale} (fit log-loss ${scaleSearch.map((x) => `${x.logitScale}: ${x.fitLogLoss}`).join(', ')})`);
  }
  inp.log(`held-out digits (${inp.heldOut.n})`);
  const hoPred = await predictSetF(inp.heldOut.x, inp.heldOut.n, T, inp.seed + 1, logitScale);
  const predicted = hoPred.summaries.map((s) => s.digit);
  const correct = predicted.map((d, i) => d === inp.heldOut.y[i]);
  const ho = score(hoPred, inp.heldOut, density);
  const evalIdx = predicted.map((_, i) => i).filter((i) => half[i] === 1);
  const nDraws = Math.max(1, inp.draws ?? 10);
  const drawFigures = [heldOutFigures(hoPred.summaries, inp.heldOut.y, evalIdx)];
  for (let d = 1; d < nDraws; d++) drawFigures.push(heldOutFigures((await predictSetF(inp.heldOut.x, inp.heldOut.n, T, inp.seed + 100 + d)).summaries, inp.heldOut.y, evalIdx));
  const meanOf = (f: (x: HeldOutFigures) => number): number => r4(drawFigures.reduce((a, x) => a + f(x), 0) / drawFigures.length);
  const evaluation: Record<string, unknown> = {
    samples: T,
    heldOutDigits: inp.heldOut.n,
    accuracy: meanOf((x) => x.accuracy),
    nll: meanOf((x) => x.nll),
    ece: meanOf((x) => x.ece),
    eceBins: 15,
    draws: {
      count: nDraws,
      note: `accuracy, nll and ece are means over ${nDraws} MC draws of the held-out set at T = ${T} (mask seeds differ); the confidence mapping uses the first`,
      errors: drawFigures.map((x) => x.errors),
      ece: drawFigures.map((x) => r4(x.ece)),
    },
  };
  if (temperature) evaluation.temperature = { value: temperature.temperature, minimum: temperature.minTemperature, fittedOn: 'calibration half of the validation digits (NLL of the MC mean, never below the minimum: the samples stay soft)', nllBefore: r4(temperature.nllBefore), nllAfter: r4(temperature.nllAfter) };
  evaluation.evaluationHalf = {
    digits: evalIdx.length,
    note: 'held-out digits used for neither the temperature nor the confidence mapping (means over the same draws)',
    accuracy: meanOf((x) => x.half.accuracy),
    nll: meanOf((x) => x.half.nll),
    ece: meanOf((x) => x.half.ece),
  };

  const digitsFit = ho.filter((_, i) => half[i] === 0);
  const digitsEval = ho.filter((_, i) => half[i] === 1);
  const correctFit = correct.filter((_, i) => half[i] === 0);
  const correctEval = correct.filter((_, i) => half[i] === 1);

  let calibration: ConfidenceCalibration;
  let threshold = 1;
  if (oodFitSet && inp.oodEval) {
    inp.log(`non-digits for fitting the confidence mapping (${fitN}, Fashion-MNIST train)`);
    const oodFit = score(await predictSetF(oodFitSet.x, oodFitSet.n, T, inp.seed + 2, logitScale), oodFitSet, density);
    const fitRows = [...digitsFit, ...oodFit];
    const fitY = [...correctFit, ...oodFit.map(() => false)];
    const isDigit = [...digitsFit.map(() => true), ...oodFit.map(() => false)];
    let shiftNote = '';
    if (inp.fitShifts) {
      const sh = inp.fitShifts.set;
      const sp = await predictSetF(sh.x, sh.n, T, inp.seed + 10, logitScale);
      fitRows.push(...score(sp, sh, density));
      const ok = sp.summaries.map((x, i) => x.digit === sh.y[i]);
      fitY.push(...ok);
      isDigit.push(...ok.map(() => true));
      shiftNote = ` + ${sh.n} ${inp.fitShifts.note} (${ok.filter(Boolean).length} right)`;
    }
    const fit = fitConfidenceMapping(fitRows.map((r) => useful.map((f) => featureValue(f, r.r, r.e))), fitY, isDigit);
    calibration = {
      features: useful,
      ...fit,
      nonDigitShare: r4(fit.nonDigitShare),
      samples: T,
      ...(logitScale !== 1 ? { logitScale } : {}),
      fitSet: `${digitsFit.length} validation MNIST digits (alternate images per class)${shiftNote} + ${oodFit.length} Fashion-MNIST train images${twoStageNote(fit)}`,
    };
    const conf = (x: Scored): number => confidenceOf(calibration, x.r, x.e);
    const fitConf = fitRows.map(conf);
    const thr = lowestReliableThreshold(fitConf, fitY, 0.99);
    threshold = r4(thr.threshold);

    inp.log(`non-digits for evaluation (${inp.oodEval.n}, Fashion-MNIST t10k)`);
    const oodEval = score(await predictSetF(inp.oodEval.x, inp.oodEval.n, T, inp.seed + 3, logitScale), inp.oodEval, density);
    // a 50/50 mix like the fit set, for precision/coverage/ECE of `confidence`
    const mixOod = oodEval.slice(0, digitsEval.length);
    const mix = [...digitsEval, ...mixOod];
    const mixY = [...correctEval, ...mixOod.map(() => false)];
    const mixConf = mix.map(conf);
    const reliable = mixConf.map((c) => c >= threshold);
    const nRel = reliable.filter(Boolean).length;
    const okRel = reliable.filter((r, i) => r && mixY[i]).length;
    evaluation.confidence = {
      method: calibration.method,
      ...(calibration.digit ? { assumedNonDigitShare: calibration.digit.assumedNonDigitShare, priorShift: r4(calibration.digit.priorShift) } : {}),
      fitSet: calibration.fitSet,
      fitShiftKinds: inp.fitShifts ? [...inp.fitShifts.kinds] : [],
      ...(scaleSearch.length ? { logitScale, logitScaleSearch: scaleSearch } : {}),
      evalSet: `${digitsEval.length} other held-out digits + ${mixOod.length} Fashion-MNIST t10k images (50% non-digits)`,
      threshold,
      thresholdOnFitSet: { coverage: r4(thr.coverage), precision: r4(thr.precision) },
      eceOnEvalMix: r4(expectedCalibrationError(mixConf, mixY)),
      reliablePrecisionOnEvalMix: nRel ? r4(okRel / nRel) : null,
      reliableCoverageOfDigits: r4(reliable.slice(0, digitsEval.length).filter(Boolean).length / digitsEval.length),
      nonDigitsReliable: r4(reliable.slice(digitsEval.length).filter(Boolean).length / mixOod.length),
    };
    evaluation.oodAuroc = { fashionMnistT10k: { images: oodEval.length, digits: digitsEval.length, ...oodAurocs(digitsEval, oodEval, conf) } };
    for (const [name, set] of Object.entries(inp.extraOod ?? {})) {
      const sc = score(await predictSetF(set.x, set.n, T, inp.seed + 4, logitScale), set, density);
      (evaluation.oodAuroc as Record<string, unknown>)[name] = { images: sc.length, digits: digitsEval.length, ...oodAurocs(digitsEval, sc, conf) };
      const rel = sc.filter((x) => conf(x) >= threshold).length;
      (evaluation.oodAuroc as Record<string, Record<string, unknown>>)[name].reliableShare = r4(rel / sc.length);
    }
  } else {
    // no non-digit data: a mapping from the digits alone (documented in metadata as such)
    const lr = fitLogistic(digitsFit.map((r) => ['maxProbability', 'mutualInformation'].map((f) => featureValue(f as CalibrationFeature, r.r, r.e))), correctFit);
    calibration = { method: 'logistic', features: ['maxProbability', 'mutualInformation'], ...lr, nonDigitShare: 0, samples: T, ...(logitScale !== 1 ? { logitScale } : {}), fitSet: `${digitsFit.length} held-out MNIST digits only (Fashion-MNIST not found)` };
    threshold = r4(lowestReliableThreshold(digitsFit.map((x) => confidenceOf(calibration, x.r, x.e)), correctFit).threshold);
  }
  return { density, calibration, threshold, evaluation };
}
