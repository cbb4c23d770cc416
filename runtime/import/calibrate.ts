import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { featureValue, confidenceOf } from '../engine/confidence.js';
import { Engine } from '../engine/engine.js';
import { pixelEvidence } from '../engine/pixel-evidence.js';
import type { ImagePrediction } from '../engine/types.js';
import type { CalibrationFeature, ConfidenceCalibration } from '../model/metadata.js';
import { fitLogistic, lowestReliableThreshold } from '../train/calibrate.js';
import { FASHION_DIR, loadFashion, loadMnistFull, pick, type ImageSet } from '../train/datasets.js';
import { headlineTable } from '../train/evaluation-report.js';
import { accuracy, auroc, expectedCalibrationError, negativeLogLikelihood } from '../train/metrics.js';
import { throughPreprocessing } from '../train/through-preprocessing.js';

/**
 * `npm run calibrate -- --model DIR`: fits the confidence mapping and the reliability threshold of
 * any servable model version (trained here or imported by runtime/import) on the project's
 * calibration data, as the engine serves it, and records its evaluation. Reuses the training's
 * pieces (runtime/train: the logistic fit, the threshold rule, the data sets, the preprocessing
 * pass, the metrics and the evaluation table) on the engine's own answers.
 *
 * Data: validation digits (the fixed split every choice uses; never t10k), alternate images per
 * class fitting / evaluating, mixed 50/50 with Fashion-MNIST train images as the non-digits the
 * mapping learns to distrust (when the Debian package is installed); t10k digits and Fashion-MNIST
 * t10k are only evaluated. Every image passes through the runtime's preprocessing first.
 */

/** The features a mapping may read: with MC dropout, its figures; without, those of one pass. */
export function calibrationFeatures(uncertainty: 'mc-dropout' | 'none'): CalibrationFeature[] {
  return uncertainty === 'none'
    ? ['maxProbability', 'predictiveEntropy', 'inkFraction', 'edgeDensity', 'interiorShare']
    : ['maxProbability', 'predictiveEntropy', 'mutualInformation', 'inkFraction', 'edgeDensity', 'interiorShare'];
}

export interface CalibrateOptions {
  /** Validation digits used (half fit, half evaluate); default 2000. */
  digits?: number;
  /** t10k digits evaluated; default 2000. */
  testDigits?: number;
  fashionDir?: string;
  seed?: number;
  log?: (line: string) => void;
}

interface Row {
  p: ImagePrediction;
  values: number[];
}

const r4 = (v: number): number => Number(v.toFixed(4));
const evenly = (n: number, k: number): number[] => Array.from({ length: Math.min(k, n) }, (_, i) => Math.floor((i * n) / Math.min(k, n)));

async function answer(engine: Engine, set: ImageSet, t: number, features: CalibrationFeature[], chunk = 200): Promise<Row[]> {
  const rows: Row[] = [];
  for (let s = 0; s < set.n; s += chunk) {
    const m = Math.min(chunk, set.n - s);
    const x = set.x.subarray(s * 784, (s + m) * 784);
    const ps = await engine.predict(x, m, t);
    ps.forEach((p, i) => {
      const e = pixelEvidence(x, i * 784, 784, features);
      rows.push({ p, values: features.map((f) => featureValue(f, p, e)) });
    });
  }
  return rows;
}

function digitFigures(rows: Row[], y: ArrayLike<number>, conf: number[], threshold: number): Record<string, number> {
  const probs = new Float32Array(rows.length * 10);
  rows.forEach((r, i) => probs.set(r.p.probabilities, i * 10));
  const right = rows.map((r, i) => r.p.digit === y[i]);
  const reliable = conf.map((c) => c >= threshold);
  const nRel = reliable.filter(Boolean).length;
  return {
    images: rows.length,
    accuracy: r4(accuracy(rows.map((r) => r.p.digit), y)),
    nll: r4(negativeLogLikelihood(probs, y, 10)),
    ece: r4(expectedCalibrationError(conf, right)),
    reliableCoverage: r4(nRel / rows.length),
    reliablePrecision: nRel ? r4(reliable.filter((r, i) => r && right[i]).length / nRel) : NaN,
    rightReliable: r4(reliable.filter((r, i) => r && right[i]).length / Math.max(1, right.filter(Boolean).length)),
  };
}

/** Fits, writes metadata.json (calibration, threshold, evaluation summary) and evaluation.json; returns the evaluation. */
export async function calibrateModel(dir: string, opts: CalibrateOptions = {}): Promise<Record<string, unknown>> {
  const log = opts.log ?? ((l: string) => console.error(`[calibrate] ${l}`));
  const metaPath = path.join(dir, 'metadata.json');
  const engine = await Engine.load({ modelUri: dir, seed: opts.seed ?? 16 });
  const meta = engine.info.metadata;
  const { uncertainty } = engine.info;
  const T = uncertainty === 'none' ? 1 : meta.inference.samples;
  const features = calibrationFeatures(uncertainty);
  log(`${meta.name}/${meta.version} on ${engine.info.backend}: uncertainty ${uncertainty}${uncertainty === 'none' ? '' : `, T = ${T}`}`);

  const data = await loadMnistFull();
  const val = (await throughPreprocessing(pick(data.validation, evenly(data.validation.n, opts.digits ?? 2000)))).set;
  const test = (await throughPreprocessing(pick(data.test, evenly(data.test.n, opts.testDigits ?? 2000)))).set;
  // alternate images per class: half 0 fits, half 1 evaluates
  const seen = new Map<number, number>();
  const half = Array.from(val.y, (c) => {
    const k = seen.get(c) ?? 0;
    seen.set(c, k + 1);
    return k % 2;
  });
  const fitIdx = half.flatMap((h, i) => (h === 0 ? [i] : []));
  const evalIdx = half.flatMap((h, i) => (h === 1 ? [i] : []));
  const fashionDir = opts.fashionDir ?? FASHION_DIR;
  const fashionFit = await loadFashion('train', fitIdx.length, fashionDir);
  const fashionEval = await loadFashion('t10k', test.n, fashionDir);
  log(`answering ${val.n} validation and ${test.n} t10k digits${fashionFit ? `, ${fashionFit.n} + ${fashionEval?.n ?? 0} Fashion-MNIST images` : ' (Fashion-MNIST not found: a mapping from digits alone)'}`);

  const valRows = await answer(engine, val, T, features);
  const fitRows = fitIdx.map((i) => valRows[i]);
  const fitY = fitIdx.map((i) => valRows[i].p.digit === val.y[i]);
  let oodFitRows: Row[] = [];
  if (fashionFit) {
    oodFitRows = await answer(engine, (await throughPreprocessing(fashionFit)).set, T, features);
    fitRows.push(...oodFitRows);
    fitY.push(...oodFitRows.map(() => false));
  }
  const lr = fitLogistic(
    fitRows.map((r) => r.values),
    fitY,
  );
  const calibration: ConfidenceCalibration = {
    method: 'logistic',
    features,
    ...lr,
    nonDigitShare: r4(oodFitRows.length / fitRows.length),
    samples: T,
    fitSet: `${fitIdx.length} validation MNIST digits (alternate images per class)${fashionFit ? ` + ${oodFitRows.length} Fashion-MNIST train images` : ' only (Fashion-MNIST not found)'}; npm run calibrate`,
  };
  const conf = (r: Row): number => confidenceOf(calibration, r.p, pixelEvidenceOf(r, features));
  const thr = lowestReliableThreshold(fitRows.map(conf), fitY, 0.99);
  const threshold = r4(thr.threshold);
  log(`mapping on ${features.join(', ')}; threshold ${threshold} (coverage ${r4(thr.coverage)} of the fit set at precision ${r4(thr.precision)})`);

  const evalRows = evalIdx.map((i) => valRows[i]);
  const testRows = await answer(engine, test, T, features);
  const sets = {
    validationEvalHalf: digitFigures(evalRows, evalIdx.map((i) => val.y[i]), evalRows.map(conf), threshold),
    t10k: digitFigures(testRows, test.y, testRows.map(conf), threshold),
  };
  const ood: Record<string, Record<string, number>> = {};
  if (fashionEval) {
    const oodRows = await answer(engine, (await throughPreprocessing(fashionEval)).set, T, features);
    const digitsConf = testRows.map(conf);
    const oodConf = oodRows.map(conf);
    ood.fashionMnistT10k = {
      images: oodRows.length,
      aurocConfidence: r4(auroc(digitsConf, oodConf)),
      aurocMaxProbability: r4(auroc(testRows.map((r) => r.p.probability), oodRows.map((r) => r.p.probability))),
      aurocMutualInformation: uncertainty === 'none' ? NaN : r4(auroc(testRows.map((r) => -r.p.mutualInformation), oodRows.map((r) => -r.p.mutualInformation))),
      reliableShare: r4(oodConf.filter((c) => c >= threshold).length / oodConf.length),
    };
  }
  const evaluation = {
    model: { name: meta.name, version: meta.version },
    backend: engine.info.backend,
    samples: T,
    uncertainty,
    reliabilityThreshold: threshold,
    by: 'npm run calibrate',
    notes: [
      `digits: ${evalIdx.length} validation digits not used for fitting, ${test.n} t10k digits (evenly spaced), all through the runtime's preprocessing; ECE of confidence`,
      'shifts, photo variants and the MC-dropout ablation are `npm run evaluate` figures (a trained Layers model with dropout)',
    ],
    sets,
    shifts: {},
    ood,
    ablation: {},
  };
  engine.dispose();

  const raw = JSON.parse(await readFile(metaPath, 'utf8')) as Record<string, unknown>;
  const inference = { ...(raw.inference as Record<string, unknown>), samples: T, reliabilityThreshold: threshold };
  const updated = { ...raw, inference, calibration, evaluation: { calibratedBy: 'npm run calibrate', ...sets, ood } };
  // model.json and the weights are unchanged: the digests metadata.json records (`files`) stay valid
  await writeFile(metaPath, JSON.stringify(updated, null, 2) + '\n');
  await writeFile(path.join(dir, 'evaluation.json'), JSON.stringify(evaluation, null, 1) + '\n');
  console.log(`${meta.name}/${meta.version}, ${engine.info.backend}, uncertainty ${uncertainty}, T = ${T}, reliability threshold ${threshold}\n\n${headlineTable(evaluation)}\n`);
  return evaluation;
}

function pixelEvidenceOf(r: Row, features: CalibrationFeature[]): Record<string, number> {
  // the row keeps the feature values in `features` order; give confidenceOf the evidence it reads
  const e: Record<string, number> = {};
  features.forEach((f, i) => {
    if (f === 'inkFraction' || f === 'edgeDensity' || f === 'interiorShare') e[f] = r.values[i];
  });
  return e;
}
