/**
 * The evaluation of a served model (`npm run evaluate`, and `npm run calibrate` after its fit):
 * validation, t10k, benign shifts, photo variants and non-digits through the runtime's
 * preprocessing and the engine as served, and the MC-dropout ablation. A model served without MC
 * dropout (uncertainty 'none') gets every row that exists for it; the ablation rows that need MC
 * dropout say they do not apply.
 */
import type { Engine } from '../../runtime/engine/engine.js';
import { FASHION_DIR, loadFashion, loadMnistFull, pick, type ImageSet } from '../../runtime/train/datasets.js';
import { digitFigures, r4, scoreSet, type Scored } from '../../runtime/train/evaluation.js';
import { FIT_SHIFT_KINDS, SHIFT_KINDS, SHIFTS, shiftedSet } from '../../runtime/train/shifts.js';
import { throughPreprocessing } from '../../runtime/train/through-preprocessing.js';
import { ablationFigures } from './ablation.js';
import { atMost, evenly, nonDigitSets, PHOTO_VARIANTS, photoDigits } from './image-sets.js';
import { drawsFor, sizeMode, type EvaluationSize } from './size.js';
import { auroc } from '../../runtime/train/metrics.js';
import { ASSUMED_NON_DIGIT_SHARE } from '../../runtime/train/calibrate.js';

export interface EvaluateOptions {
  size: EvaluationSize;
  /** The engine's mask seed (recorded). */
  maskSeed: number;
  /** Printed letters, rendered before the engine loaded (renderLetters), if any font drew them. */
  letters: ImageSet | undefined;
  fashionDir?: string;
  log: (line: string) => void;
}

export async function evaluateModel(engine: Engine, opts: EvaluateOptions): Promise<Record<string, unknown>> {
  const { size, log } = opts;
  const t0 = performance.now();
  const meta = engine.info.metadata;
  const mcDropout = engine.info.uncertainty === 'mc-dropout';
  const T = drawsFor(size, meta.inference.samples, mcDropout);
  const mode = sizeMode(size);
  log(`${meta.name}/${meta.version} on ${engine.info.backend}, uncertainty ${engine.info.uncertainty}, T = ${T}, threshold ${meta.inference.reliabilityThreshold}, ${mode} size`);
  const fashionDir = opts.fashionDir ?? FASHION_DIR;
  const data = await loadMnistFull();
  const through = async (label: string, set: ImageSet): Promise<ImageSet> => {
    const s = performance.now();
    const r = await throughPreprocessing(set);
    log(`${label}: ${set.n} images through the preprocessing in ${((performance.now() - s) / 1000).toFixed(0)} s`);
    return r.set;
  };
  const score = async (label: string, set: ImageSet): Promise<Scored[]> => {
    const s = performance.now();
    const r = await scoreSet(engine, set, T);
    log(`${label}: ${set.n} images scored in ${((performance.now() - s) / 1000).toFixed(0)} s`);
    return r;
  };

  // ---- clean digits
  const validation = await through('validation', atMost(data.validation, size.cleanDigits));
  const test = await through('t10k', atMost(data.test, size.cleanDigits));
  const valRows = await score('validation', validation);
  const testRows = await score('t10k', test);

  // ---- benign shifts: the same evenly spaced digits of validation and t10k under each shift
  const valShiftBase = pick(data.validation, evenly(data.validation.n, size.shiftDigits));
  const testShiftBase = pick(data.test, evenly(data.test.n, size.shiftDigits));
  const shiftRows: Record<string, { validation: Scored[]; t10k: Scored[] }> = {};
  for (const sh of SHIFTS) {
    const s = performance.now();
    const v = await shiftedSet(sh, valShiftBase);
    const t = await shiftedSet(sh, testShiftBase);
    log(`shift ${sh.name}: ${v.n + t.n} images rendered and preprocessed in ${((performance.now() - s) / 1000).toFixed(0)} s`);
    shiftRows[sh.name] = { validation: await score(`${sh.name} validation`, v), t10k: await score(`${sh.name} t10k`, t) };
  }

  // ---- photo variants of t10k digits (hack/data/photo-variants.ts), through the preprocessing
  const photo = photoDigits(data.test, size.photoPerClass);
  const photoRows: Record<string, Scored[]> = {};
  if (size.photoPerClass > 0) for (const v of PHOTO_VARIANTS) photoRows[v.name] = await score(`photo ${v.name}`, await photo.render(v));

  // ---- non-digits
  const ood = await nonDigitSets(size.nonDigits, fashionDir, opts.letters, log);
  const fashionTrain = await loadFashion('train', size.ablationFashion, fashionDir);
  if (!fashionTrain) throw new Error(`Fashion-MNIST not found in ${fashionDir} (apt-get install dataset-fashion-mnist)`);
  const oodRows: Record<string, Scored[]> = {};
  for (const [name, set] of Object.entries(ood)) oodRows[name] = await score(name, await through(name, set));
  const fashionFitRows = await score('fashionTrain (ablation fit)', await through('fashionTrain', fashionTrain));

  // ---- figures of the served model
  const served = (rows: Scored[], y: ArrayLike<number>): Record<string, number> => digitFigures(rows, y, mcDropout);
  const sets = { validation: served(valRows, validation.y), t10k: served(testRows, test.y) };
  const fitKinds = ((meta.evaluation as { confidence?: { fitShiftKinds?: string[] } } | undefined)?.confidence?.fitShiftKinds ?? []) as string[];
  const shifts: Record<string, unknown> = {};
  for (const sh of SHIFTS) {
    shifts[sh.name] = {
      kind: sh.kind,
      kindName: SHIFT_KINDS[sh.kind],
      description: sh.description,
      heldOutFromFit: !fitKinds.includes(sh.kind),
      validation: served(shiftRows[sh.name].validation, valShiftBase.y),
      t10k: served(shiftRows[sh.name].t10k, testShiftBase.y),
    };
  }
  const photos: Record<string, unknown> = {};
  for (const [name, rows] of Object.entries(photoRows)) photos[name] = served(rows, photo.labels);
  const oodFigures: Record<string, unknown> = {};
  for (const [name, rows] of Object.entries(oodRows)) {
    oodFigures[name] = {
      images: rows.length,
      aurocConfidence: r4(auroc(testRows.map((r) => r.confidence), rows.map((r) => r.confidence))),
      aurocMaxProbability: r4(auroc(testRows.map((r) => r.probability), rows.map((r) => r.probability))),
      // without MC dropout there is no mutual information to rank by
      aurocMutualInformation: mcDropout ? r4(auroc(testRows.map((r) => -r.served.mutualInformation), rows.map((r) => -r.served.mutualInformation))) : NaN,
      reliableShare: r4(rows.filter((r) => r.reliable).length / rows.length),
    };
  }
  const ablation = ablationFigures(
    { mcDropout, featureDensity: meta.evidence.featureDensity !== undefined, samples: T },
    { validation: { rows: valRows, y: validation.y }, t10k: { rows: testRows, y: test.y }, shifts: shiftRows, valShiftY: valShiftBase.y, testShiftY: testShiftBase.y, ood: oodRows, fashionFit: fashionFitRows },
  );

  const calibration = meta.calibration;
  const imported = (meta as { imported?: { format: string; model: string } }).imported;
  return {
    model: {
      name: meta.name,
      version: meta.version,
      trainedOn: (meta.training as { data?: string } | undefined)?.data ?? null,
      ...(imported ? { imported: `${imported.format} (${imported.model} model)` } : {}),
      servedMappingFitShiftKinds: fitKinds,
      servedMappingFitSet: calibration?.fitSet ?? null,
    },
    backend: engine.info.backend,
    uncertainty: engine.info.uncertainty,
    samples: T,
    maskSeed: opts.maskSeed,
    reliabilityThreshold: meta.inference.reliabilityThreshold,
    size: {
      mode,
      validationDigits: validation.n,
      t10kDigits: test.n,
      shiftDigitsPerVariant: size.shiftDigits,
      photoDigitsPerVariant: photo.labels.length,
      nonDigits: Object.fromEntries(Object.entries(ood).map(([k, s]) => [k, s.n])),
      ablationFashionFit: fashionTrain.n,
    },
    data: data.note,
    notes: [
      `uncertainty ${engine.info.uncertainty}: ${mcDropout ? `every answer the mean of T = ${T} MC-dropout samples` : 'one pass per image (no MC dropout): no mutual information, no aleatoric / epistemic split, and the ablation rows that need MC dropout do not apply'}`,
      ...(mode === 'full' ? [] : [`a ${mode} evaluation (sizes in size): not comparable with the full one`]),
      'every image is encoded (PNG; JPEG for jpeg15) and passed through the runtime preprocessing, then the engine as served',
      'accuracy / nll / ece: of the served probabilities (mean of T softmax samples); ece: 15 equal-width bins on the top probability',
      'reliableCoverage: share of images reliable; reliablePrecision: share of reliable answers that are right; rightReliable: share of right answers that are reliable',
      'validation: the model chooser; t10k: reported, never used to choose',
      `shifts: ${size.shiftDigits} validation digits (evenly spaced) and ${size.shiftDigits} t10k digits (evenly spaced) under each variant; heldOutFromFit: the served mapping was not fitted on the kind`,
      'ood AUROCs: t10k digits (positive) against each set, scored by the served confidence',
      `ablation: four mappings fitted here as the served one is (two stages: P(right | digit) on the digits, P(digit) on digits vs non-digits, at ${ASSUMED_NON_DIGIT_SHARE * 100}% non-digits assumed) on the same set (${ablation.fitRows} rows: the even-position validation digits, the validation shifts of kinds ${FIT_SHIFT_KINDS.join(', ')}, ${fashionFitRows.length} Fashion-MNIST train images as non-digits), evaluated on t10k; oneStage: the same features in one logistic on digits and non-digits together (the served mapping before two stages); coverageAt99Precision uses the threshold at which 99% of the set's answers above it are right (an oracle threshold: a property of the ranking); coverageAt999Precision the same at 99.9% (clean t10k is more than 99% right as a whole)`,
      "c (without MC features) reads one pass with dropout off: its max probability and entropy at the mapping's logit scale, plus the same non-MC evidence",
      ...(meta.evidence.featureDensity ? [] : ['the model has no feature density: the ablation mappings read no logFeatureDistance']),
    ],
    sets,
    shifts,
    photoVariants: { digitsPerVariant: photo.labels.length, source: 't10k digits (first per class) rendered by hack/data/photo-variants.ts', variants: photos },
    ood: oodFigures,
    ablation: ablation.rows,
    seconds: Math.round((performance.now() - t0) / 1000),
  };
}
