import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { featureValue, confidenceOf } from '../engine/confidence.js';
import { Engine } from '../engine/engine.js';
import { pixelEvidence } from '../engine/pixel-evidence.js';
import type { ImagePrediction } from '../engine/types.js';
import type { CalibrationFeature, ConfidenceCalibration } from '../model/metadata.js';
import { fitConfidenceMapping, lowestReliableThreshold, twoStageNote } from '../train/calibrate.js';
import { PACKAGE_ROOT } from '../package-root.js';
import { FASHION_DIR, loadFashion, loadMnistFull, pick, type ImageSet } from '../train/datasets.js';
import { throughPreprocessing } from '../train/through-preprocessing.js';

/**
 * `npm run calibrate -- --model DIR`: fits the confidence mapping and the reliability threshold of
 * any servable model version (trained here or imported by runtime/import) on the project's
 * calibration data, as the engine serves it, then records its evaluation by running
 * `npm run evaluate` on it (hack/evaluate: the same command, the same table and evaluation.json).
 * Reuses the training's pieces (runtime/train: the logistic fit, the threshold rule, the data
 * sets, the preprocessing pass) on the engine's own answers.
 *
 * Data: validation digits (the fixed split every choice uses; never t10k), alternate images per
 * class of the `digits` evenly spaced ones, mixed 50/50 with Fashion-MNIST train images as the non-digits the
 * mapping's digit stage learns to tell apart (model/metadata.ts: two stages) (when the Debian package is installed); t10k is only evaluated. Every
 * image passes through the runtime's preprocessing first.
 */

/** The features a mapping may read: with MC dropout, its figures; without, those of one pass. */
export function calibrationFeatures(uncertainty: 'mc-dropout' | 'none'): CalibrationFeature[] {
  return uncertainty === 'none'
    ? ['maxProbability', 'predictiveEntropy', 'inkFraction', 'edgeDensity', 'interiorShare']
    : ['maxProbability', 'predictiveEntropy', 'mutualInformation', 'inkFraction', 'edgeDensity', 'interiorShare'];
}

export interface CalibrateOptions {
  /** Validation digits the fit may use (alternate images per class fit it); default 2000. */
  digits?: number;
  /** Options of `npm run evaluate` for the evaluation's size (e.g. ['--quick']); default the full size. */
  evaluateArgs?: string[];
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

/** Fits, writes metadata.json (calibration, threshold), evaluates (evaluation.json, a summary in metadata.json); returns the evaluation. */
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
  // alternate images per class fit the mapping
  const seen = new Map<number, number>();
  const fitIdx = Array.from(val.y, (c) => {
    const k = seen.get(c) ?? 0;
    seen.set(c, k + 1);
    return k % 2;
  }).flatMap((h, i) => (h === 0 ? [i] : []));
  const fashionDir = opts.fashionDir ?? FASHION_DIR;
  const fashionFit = await loadFashion('train', fitIdx.length, fashionDir);
  log(`answering ${fitIdx.length} validation digits${fashionFit ? ` and ${fashionFit.n} Fashion-MNIST images` : ' (Fashion-MNIST not found: a mapping from digits alone)'}`);

  const fitSet = pick(val, fitIdx);
  const fitRows = await answer(engine, fitSet, T, features);
  const fitY = fitRows.map((r, i) => r.p.digit === fitSet.y[i]);
  let oodFitRows: Row[] = [];
  if (fashionFit) {
    oodFitRows = await answer(engine, (await throughPreprocessing(fashionFit)).set, T, features);
    fitRows.push(...oodFitRows);
    fitY.push(...oodFitRows.map(() => false));
  }
  const mapping = fitConfidenceMapping(
    fitRows.map((r) => r.values),
    fitY,
    fitRows.map((_, i) => i < fitRows.length - oodFitRows.length),
  );
  const calibration: ConfidenceCalibration = {
    features,
    ...mapping,
    nonDigitShare: r4(mapping.nonDigitShare),
    samples: T,
    fitSet: `${fitIdx.length} validation MNIST digits (alternate images per class)${fashionFit ? ` + ${oodFitRows.length} Fashion-MNIST train images` : ' only (Fashion-MNIST not found)'}${twoStageNote(mapping)}; npm run calibrate`,
  };
  const conf = (r: Row): number => confidenceOf(calibration, r.p, pixelEvidenceOf(r, features));
  const thr = lowestReliableThreshold(fitRows.map(conf), fitY, 0.99);
  const threshold = r4(thr.threshold);
  log(`mapping on ${features.join(', ')}; threshold ${threshold} (coverage ${r4(thr.coverage)} of the fit set at precision ${r4(thr.precision)})`);

  engine.dispose();

  const raw = JSON.parse(await readFile(metaPath, 'utf8')) as Record<string, unknown>;
  const inference = { ...(raw.inference as Record<string, unknown>), samples: T, reliabilityThreshold: threshold };
  const fit = { digits: fitIdx.length, nonDigits: oodFitRows.length, threshold, coverage: r4(thr.coverage), precision: r4(thr.precision) };
  // model.json and the weights are unchanged: the digests metadata.json records (`files`) stay valid
  await writeFile(metaPath, JSON.stringify({ ...raw, inference, calibration, evaluation: { calibratedBy: 'npm run calibrate', fit } }, null, 2) + '\n');

  await runEvaluate(dir, opts.evaluateArgs ?? []);
  const evaluation = JSON.parse(await readFile(path.join(dir, 'evaluation.json'), 'utf8')) as {
    size: unknown;
    sets: Record<string, unknown>;
    ood: Record<string, { aurocConfidence: number }>;
  };
  const oodAurocConfidence = Object.fromEntries(Object.entries(evaluation.ood).map(([k, o]) => [k, o.aurocConfidence]));
  const summary = { calibratedBy: 'npm run calibrate', fit, evaluatedBy: 'npm run evaluate (evaluation.json)', size: evaluation.size, ...evaluation.sets, oodAurocConfidence };
  await writeFile(metaPath, JSON.stringify({ ...raw, inference, calibration, evaluation: summary }, null, 2) + '\n');
  return evaluation;
}

/** `npm run evaluate -- --model DIR ...args` (hack/evaluate/cli.ts), its table on our stdout; throws when it fails. */
async function runEvaluate(dir: string, args: string[]): Promise<void> {
  const cli = path.join(PACKAGE_ROOT, 'hack/evaluate/cli.ts');
  const tsx = path.join(PACKAGE_ROOT, 'node_modules/.bin/tsx');
  if (!existsSync(cli) || !existsSync(tsx)) throw new Error(`the evaluation needs the checkout's hack/evaluate/cli.ts and its devDependencies (npm ci): ${existsSync(cli) ? tsx : cli} not found`);
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(tsx, [cli, '--model', dir, ...args], { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (c, signal) => resolve(signal ? null : c));
  });
  if (code !== 0) throw new Error(`npm run evaluate -- --model ${dir} ${args.join(' ')} failed (${code === null ? 'killed' : `exit ${code}`})`);
}

function pixelEvidenceOf(r: Row, features: CalibrationFeature[]): Record<string, number> {
  // the row keeps the feature values in `features` order; give confidenceOf the evidence it reads
  const e: Record<string, number> = {};
  features.forEach((f, i) => {
    if (f === 'inkFraction' || f === 'edgeDensity' || f === 'interiorShare') e[f] = r.values[i];
  });
  return e;
}
