// `npm run train -- --out models/mnist-cnn/<version> [--epochs N --seed S ...]`
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { LayersModel } from '@tensorflow/tfjs';
import { selectBackend } from '../engine/backend.js';
import { nativeTensorFlowSettings } from '../engine/tfjs-node-compat.js';
import { parseMetadata, type ModelMetadata } from '../model/metadata.js';
import { asLayersModel, loadModelVersion } from '../model/store.js';
import { MIN_TEMPERATURE } from './temperature.js';
import { DEFAULT_ARCH, disposeParams, toLayersModel, type ArchSpec } from './architecture.js';
import { loadFashion, loadMnistFull, FASHION_DIR, type ImageSet } from './datasets.js';
import { accuracy } from './metrics.js';
import { predictSet } from './predict-set.js';
import { DEFAULT_CALIBRATION_FEATURES, evaluateModel } from './evaluate.js';
import { CALIBRATION_FEATURES, type CalibrationFeature } from '../model/metadata.js';
import { renderLetters } from './letters.js';
import { loadTrained, saveModelVersion, saveTrained } from './save-model.js';
import { throughPreprocessing } from './through-preprocessing.js';
import { FIT_SHIFT_KINDS, SHIFTS, shiftedSet } from './shifts.js';
import { pick } from './datasets.js';
import { DEFAULT_TRAIN, trainNetwork } from './train-loop.js';
import type { AugmentOptions } from './augment.js';

function augmentString(a: AugmentOptions): string {
  return [a.maxRotationDeg, a.maxScale, a.maxShiftPx, a.maxShear, a.thicknessProb, a.elasticPx ?? 0].join(',');
}

const HEAVY_DROPOUT_DEFAULT = DEFAULT_TRAIN.heavyDropout ? `${DEFAULT_TRAIN.heavyDropout.share},${DEFAULT_TRAIN.heavyDropout.rate}` : 'off';
const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    name: { type: 'string' },
    version: { type: 'string' },
    epochs: { type: 'string', default: String(DEFAULT_TRAIN.epochs) },
    seed: { type: 'string', default: String(DEFAULT_TRAIN.seed) },
    'batch-size': { type: 'string', default: String(DEFAULT_TRAIN.batchSize) },
    'learning-rate': { type: 'string', default: String(DEFAULT_TRAIN.learningRate) },
    'outlier-share': { type: 'string', default: String(DEFAULT_TRAIN.outlierShare) },
    'outlier-weight': { type: 'string', default: String(DEFAULT_TRAIN.outlierWeight) },
    'no-augment': { type: 'boolean', default: false },
    filters: { type: 'string', default: DEFAULT_ARCH.blocks.map((b) => b.join('-')).join(',') },
    dense: { type: 'string', default: String(DEFAULT_ARCH.dense) },
    dropout: { type: 'string', default: DEFAULT_ARCH.dropout.join(',') },
    'extra-pools': { type: 'string', default: String(DEFAULT_ARCH.extraPools) },
    'last-pool': { type: 'string', default: DEFAULT_ARCH.lastPool ?? 'valid' },
    'batch-norm': { type: 'boolean', default: DEFAULT_ARCH.batchNorm ?? false },
    'heavy-dropout': { type: 'string', default: HEAVY_DROPOUT_DEFAULT },
    augment: { type: 'string', default: augmentString(DEFAULT_TRAIN.augment!) },
    'augment-anneal': { type: 'string', default: DEFAULT_TRAIN.augmentAnneal ? `${DEFAULT_TRAIN.augmentAnneal.share},${DEFAULT_TRAIN.augmentAnneal.floor}` : '0,1' },
    swa: { type: 'string', default: DEFAULT_TRAIN.swa ? `${DEFAULT_TRAIN.swa.start},${DEFAULT_TRAIN.swa.lrFactor}` : 'off' },
    'preprocessed-share': { type: 'string', default: String(DEFAULT_TRAIN.preprocessedShare ?? 0) },
    samples: { type: 'string', default: '30' },
    'ood-fit': { type: 'string', default: '2000' },
    'ood-eval': { type: 'string', default: '10000' },
    'fashion-dir': { type: 'string', default: FASHION_DIR },
    'max-steps': { type: 'string' },
    'stop-after-epoch': { type: 'string' },
    'evaluate-only': { type: 'boolean', default: false },
    'from-trained': { type: 'string' },
    'raw-calibration': { type: 'boolean', default: false },
    features: { type: 'string', default: DEFAULT_CALIBRATION_FEATURES.join(',') },
    'logit-scale': { type: 'string', default: 'fit' },
    'min-temperature': { type: 'string', default: String(MIN_TEMPERATURE) },
    density: { type: 'string', default: 'conv-means' },
    draws: { type: 'string', default: '10' },
    'fit-shifts': { type: 'string', default: '500' },
    help: { type: 'boolean', default: false },
  },
});

if (values.help || !values.out) {
  console.log(`usage: npm run train -- --out models/<name>/<version> [options]
  --epochs N (${DEFAULT_TRAIN.epochs})  --seed S (${DEFAULT_TRAIN.seed})  --batch-size B  --learning-rate LR
  --filters ${DEFAULT_ARCH.blocks.map((b) => b.join('-')).join(',')} (conv blocks: blocks by commas, filters by dashes)  --dense ${DEFAULT_ARCH.dense}  --dropout ${DEFAULT_ARCH.dropout.join(',')}
  --extra-pools N (2×2 pools after the last block's own, ${DEFAULT_ARCH.extraPools})  --last-pool valid|same (padding of the last pool)
  --batch-norm (batch normalisation after each convolution while training, folded into the served
    convolutions; statistics from each batch's digits, recomputed over training batches at the end)
  --heavy-dropout SHARE,RATE|off (mixed-rate dropout: a SHARE of each batch's digits trained with the
    first dropout at RATE instead of --dropout's first rate; serving keeps --dropout's; ${HEAVY_DROPOUT_DEFAULT})
  --augment ROT,SCALE,SHIFT,SHEAR,THICK[,ELASTIC] (degrees, share, px, shear, probability, px of a smooth
    random warp; ${augmentString(DEFAULT_TRAIN.augment!)})
  --augment-anneal SHARE,FLOOR (over the last SHARE of the steps, shrink the augmentation ranges
    linearly to FLOOR times their size; 0,1 = off; ${DEFAULT_TRAIN.augmentAnneal ? `${DEFAULT_TRAIN.augmentAnneal.share},${DEFAULT_TRAIN.augmentAnneal.floor}` : '0,1'})
  --swa START,LRFACTOR|off (stochastic weight averaging: the learning rate decays to LRFACTOR × its value
    by the share START of the steps and stays there; the model is the mean of the weights at the end of
    each epoch from then on; ${DEFAULT_TRAIN.swa ? `${DEFAULT_TRAIN.swa.start},${DEFAULT_TRAIN.swa.lrFactor}` : 'off'})
  --preprocessed-share S (share of training draws taken from the training digits passed through the
    runtime's preprocessing, ${DEFAULT_TRAIN.preprocessedShare ?? 0})
  --outlier-share ${DEFAULT_TRAIN.outlierShare} --outlier-weight ${DEFAULT_TRAIN.outlierWeight} (outlier exposure with synthetic non-digits; 0 disables)
  --no-augment  --samples T (MC samples for evaluation and the default, 30)
  --ood-fit N (Fashion-MNIST train images for the confidence fit, capped at the held-out half)
  --ood-eval N (Fashion-MNIST t10k images to evaluate on)  --fashion-dir DIR  --max-steps N
  --stop-after-epoch N (train N epochs and stop; the same command continues from <out>.checkpoint,
    which every training run writes after each epoch and continues from when its options match —
    an interrupted run loses at most one epoch; removed once the trained network is saved)
  --evaluate-only (re-evaluate and re-calibrate the model already in --out, keeping its training record)
  --from-trained DIR (calibrate the network saved in DIR right after training: every run writes it to
    <out>.trained before its evaluation; no training)
  --features a,b,... (the confidence mapping's inputs; default ${DEFAULT_CALIBRATION_FEATURES.join(',')})
  --min-temperature τ (the lowest temperature the served probabilities' fit may choose; ${MIN_TEMPERATURE})
  --logit-scale fit|S (the MC figures the mapping reads are computed from the logits × S, a temperature
    of the evidence alone; fit = the scale, 1 down to 0.0002, whose mapping has the lowest log-loss
    on its fit set; fit)
  --density conv-means|penultimate (the features of the Mahalanobis density behind logFeatureDistance:
    the spatial mean of every conv layer's channels, or the last layer's input; conv-means)
  --fit-shifts N (validation digits of the fitting half per shift variant of the fit kinds
    ${FIT_SHIFT_KINDS.join(', ')} (runtime/train/shifts.ts) added to the confidence mapping's fit set; 0 = none; 500)
  --draws K (MC draws of the held-out set that accuracy, NLL and ECE are averaged over, 10)
  --raw-calibration (evaluate and calibrate on the raw 28×28 arrays instead of passing every image,
    encoded as a PNG, through the runtime's preprocessing as served images are)`);
  process.exit(values.help ? 0 : 2);
}

const num = (k: keyof typeof values): number => {
  const v = Number(values[k]);
  if (!Number.isFinite(v)) throw new Error(`--${k} must be a number, got ${values[k]}`);
  return v;
};
const out = path.resolve(values.out);
const version = values.version ?? path.basename(out);
const name = values.name ?? path.basename(path.dirname(out));
const spec: ArchSpec = {
  blocks: values.filters.split(',').map((b) => b.split('-').map(Number)),
  extraPools: num('extra-pools'),
  lastPool: values['last-pool'] === 'same' ? 'same' : 'valid',
  dense: num('dense'),
  dropout: values.dropout.split(',').map(Number) as [number, number],
  ...(values['batch-norm'] ? { batchNorm: true } : {}),
};
if (!['valid', 'same'].includes(values['last-pool'])) throw new Error(`--last-pool must be valid or same, got ${values['last-pool']}`);
const augmentParts = values.augment.split(',').map(Number);
if (augmentParts.length < 5 || augmentParts.length > 6 || augmentParts.some((v) => !Number.isFinite(v))) throw new Error(`--augment needs 5 or 6 numbers, got ${values.augment}`);
const annealParts = values['augment-anneal'].split(',').map(Number);
if (annealParts.length !== 2 || annealParts.some((v) => !Number.isFinite(v) || v < 0 || v > 1)) throw new Error(`--augment-anneal needs SHARE,FLOOR in 0..1, got ${values['augment-anneal']}`);
const augment: AugmentOptions = { maxRotationDeg: augmentParts[0], maxScale: augmentParts[1], maxShiftPx: augmentParts[2], maxShear: augmentParts[3], thicknessProb: augmentParts[4], ...(augmentParts[5] ? { elasticPx: augmentParts[5] } : {}) };
const swaParts = values.swa === 'off' ? undefined : values.swa.split(',').map(Number);
if (swaParts && (swaParts.length !== 2 || !(swaParts[0] >= 0 && swaParts[0] < 1) || !(swaParts[1] > 0 && swaParts[1] <= 1))) throw new Error(`--swa needs START in [0, 1) and LRFACTOR in (0, 1], or off; got ${values.swa}`);
const heavyParts = values['heavy-dropout'] === 'off' ? undefined : values['heavy-dropout'].split(',').map(Number);
if (heavyParts && (heavyParts.length !== 2 || !(heavyParts[0] > 0 && heavyParts[0] <= 1) || !(heavyParts[1] >= 0 && heavyParts[1] < 1))) throw new Error(`--heavy-dropout needs SHARE in (0, 1] and RATE in [0, 1), or off; got ${values['heavy-dropout']}`);
const seed = num('seed');
const log = (line: string): void => console.log(`[train] ${line}`);

nativeTensorFlowSettings(process.env, 'training'); // before selectBackend's inference defaults
const backend = await selectBackend();
log(`backend ${backend.name}${backend.fallbackReason ? ` (${backend.fallbackReason})` : ''}`);
// t10k is not loaded here: models are chosen on validation only; `npm run evaluate` reports t10k
const { train, validation: heldOut, note: dataNote } = await loadMnistFull();
log(dataNote);
const opts = {
  ...DEFAULT_TRAIN,
  epochs: num('epochs'),
  seed,
  batchSize: num('batch-size'),
  learningRate: num('learning-rate'),
  outlierShare: num('outlier-share'),
  outlierWeight: num('outlier-weight'),
  augment: values['no-augment'] ? null : augment,
  preprocessedShare: num('preprocessed-share'),
  swa: swaParts ? { start: swaParts[0], lrFactor: swaParts[1] } : undefined,
  augmentAnneal: annealParts[0] > 0 ? { share: annealParts[0], floor: annealParts[1] } : undefined,
  heavyDropout: heavyParts ? { share: heavyParts[0], rate: heavyParts[1] } : undefined,
  maxSteps: values['max-steps'] ? num('max-steps') : undefined,
  checkpoint: `${out}.checkpoint`,
  stopAfterEpoch: values['stop-after-epoch'] ? num('stop-after-epoch') : undefined,
  log,
};
// before any preprocessing: the preprocessing blocks libvips' SVG loader process-wide, which renders the letters
let letters = await renderLetters();
if (!letters) log('no fonts rendered: skipping the printed-letters non-digit set');
const preprocessing: Record<string, unknown> = { throughRuntimePreprocessing: !values['raw-calibration'] };
const through = async (label: string, set: ImageSet): Promise<ImageSet> => {
  const t0 = performance.now();
  const r = await throughPreprocessing(set);
  log(`${label}: ${set.n} images through the runtime's preprocessing in ${((performance.now() - t0) / 1000).toFixed(1)} s (${r.blank} came out blank)`);
  preprocessing[label] = { images: set.n, blank: r.blank };
  return r.set;
};
let trainThrough: ImageSet | undefined;
const servedTrain = async (): Promise<ImageSet> => (trainThrough ??= await through('trainingDigits', train));
if (opts.preprocessedShare > 0 && !values['evaluate-only'] && !values['from-trained']) opts.preprocessed = await servedTrain();

let model: LayersModel;
let training: Record<string, unknown>;
let architecture: Record<string, unknown> | undefined;
let previousEvaluation: Record<string, unknown> | undefined;
if (values['evaluate-only']) {
  const existing = await loadModelVersion(out);
  model = asLayersModel(existing.model);
  training = { ...existing.metadata.training, reevaluatedBy: `npm run train -- ${process.argv.slice(2).join(' ')}` };
  architecture = existing.metadata.architecture;
  previousEvaluation = existing.metadata.evaluation;
  log(`re-evaluating ${existing.source}`);
} else if (values['from-trained']) {
  const saved = await loadTrained(path.resolve(values['from-trained']));
  model = saved.model;
  training = { ...(saved.record.training as Record<string, unknown>), calibratedBy: `npm run train -- ${process.argv.slice(2).join(' ')}` };
  architecture = saved.record.architecture as Record<string, unknown>;
  log(`calibrating the network trained in ${values['from-trained']}`);
} else {
  const t0 = performance.now();
  const { params, steps, averaged, stopped } = await trainNetwork(spec, train, opts);
  if (stopped) {
    disposeParams(params);
    log(`stopped after epoch ${opts.stopAfterEpoch} as asked: run the same command again (without --stop-after-epoch, or with a later one) to continue from ${opts.checkpoint}`);
    process.exit(0);
  }
  const trainSeconds = (performance.now() - t0) / 1000;
  model = toLayersModel(spec, params);
  disposeParams(params);
  training = {
    data: dataNote,
    augmentation: opts.augment ?? 'none',
    ...(opts.augmentAnneal ? { augmentAnneal: { ...opts.augmentAnneal, note: 'over the last share of the steps the augmentation ranges shrink linearly to floor × their size' } } : {}),
    ...(opts.heavyDropout ? { heavyDropout: { ...opts.heavyDropout, note: 'mixed-rate dropout: the first dropout of this share of each batch\'s digits at this rate in training (served: the architecture\'s rate)' } } : {}),
    ...(opts.preprocessedShare > 0 ? { preprocessedShare: opts.preprocessedShare, preprocessedNote: "share of training draws taken from the training digits passed through the runtime's preprocessing (then augmented)" } : {}),
    outlierExposure: opts.outlierShare > 0 ? { syntheticNonDigitsPerBatch: Math.round(opts.batchSize * opts.outlierShare), lossWeight: opts.outlierWeight, kinds: 'noise, smooth noise, blobs, rectangles, scribbles, stripes, fills; target: uniform distribution' } : 'none',
    epochs: opts.epochs,
    steps,
    batchSize: opts.batchSize,
    optimizer: `adam, learning rate ${opts.learningRate} with cosine decay${opts.swa ? ` to ${opts.swa.lrFactor} × at ${opts.swa.start} of the steps, then constant` : ''}`,
    ...(opts.swa ? { weightAveraging: { ...opts.swa, snapshots: averaged, note: 'stochastic weight averaging: the served weights are the mean of the snapshots at the end of each epoch from start on' } } : {}),
    seed,
    backend: backend.name,
    seconds: Math.round(trainSeconds),
    command: `npm run train -- ${process.argv.slice(2).join(' ')}`,
  };
  architecture = {
    summary: `conv3x3${spec.batchNorm ? ' (batch-normalised in training, folded)' : ''} ${spec.blocks.map((b) => b.join('-')).join(' | pool | ')} | pool${' | pool'.repeat(spec.extraPools)}${spec.lastPool === 'same' ? ' (last pool same)' : ''} | flatten | dropout ${spec.dropout[0]} | dense ${spec.dense} relu | dropout ${spec.dropout[1]} | dense 10 softmax`,
    ...spec,
    mcSuffix: 'dropout1 → dense1 → dropout2 → dense2 (the convolutions run once per image)',
  };
  await saveTrained(model, { training, architecture }, `${out}.trained`);
  log(`wrote the trained network (before any calibration) to ${out}.trained`);
  await rm(opts.checkpoint, { force: true });
}

let fashionFit = await loadFashion('train', num('ood-fit'), values['fashion-dir']);
let fashionEval = await loadFashion('t10k', num('ood-eval'), values['fashion-dir']);
if (!fashionFit || !fashionEval) log(`Fashion-MNIST not found in ${values['fashion-dir']}: confidence fitted on digits only, no OOD figures`);
const samples = num('samples');
let evalTrain = train;
let evalHeldOut = heldOut;
if (!values['raw-calibration']) {
  // SPEC §5: what the mapping is fitted and evaluated on passes through the served preprocessing
  evalTrain = await servedTrain();
  evalHeldOut = await through('heldOutDigits', heldOut);
  if (fashionFit) fashionFit = await through('fashionTrain', fashionFit);
  if (fashionEval) fashionEval = await through('fashionT10k', fashionEval);
  if (letters) letters = await through('printedLetters', letters);
}
const features = values.features.split(',').map((f) => f.trim());
for (const f of features) if (!(CALIBRATION_FEATURES as readonly string[]).includes(f)) throw new Error(`--features: unknown feature "${f}"; known: ${CALIBRATION_FEATURES.join(', ')}`);
const logitScale = values['logit-scale'] === 'fit' ? undefined : num('logit-scale');
if (logitScale !== undefined && !(logitScale > 0)) throw new Error(`--logit-scale must be fit or a positive number, got ${values['logit-scale']}`);
const minTemperature = num('min-temperature');
if (!(minTemperature > 0 && minTemperature <= 1)) throw new Error(`--min-temperature must be in (0, 1], got ${values['min-temperature']}`);
if (!['conv-means', 'penultimate'].includes(values.density)) throw new Error(`--density must be conv-means or penultimate, got ${values.density}`);
const draws = num('draws');
if (!(Number.isInteger(draws) && draws >= 1)) throw new Error(`--draws must be a positive integer, got ${values.draws}`);
// shifted digits for the confidence fit: validation digits of the fitting half (alternate per class, as evaluateModel splits)
const perShift = num('fit-shifts');
let fitShifts: { set: ImageSet; kinds: readonly string[]; note: string } | undefined;
if (perShift > 0) {
  const seen = new Map<number, number>();
  const fitHalf = Array.from({ length: heldOut.n }, (_, i) => i).filter((i) => {
    const k = seen.get(heldOut.y[i]) ?? 0;
    seen.set(heldOut.y[i], k + 1);
    return k % 2 === 0;
  });
  const variants = SHIFTS.filter((v) => FIT_SHIFT_KINDS.includes(v.kind));
  const parts: ImageSet[] = [];
  for (const [vi, v] of variants.entries()) {
    // a different stretch of the fitting half per variant
    const idx = Array.from({ length: Math.min(perShift, fitHalf.length) }, (_, j) => fitHalf[(vi * perShift + j) % fitHalf.length]);
    parts.push(await shiftedSet(v, pick(heldOut, idx)));
  }
  const n = parts.reduce((a, p) => a + p.n, 0);
  const x = new Float32Array(n * 784);
  const y = new Int32Array(n);
  let o = 0;
  for (const p of parts) {
    x.set(p.x, o * 784);
    y.set(p.y, o);
    o += p.n;
  }
  fitShifts = { set: { x, y, n }, kinds: FIT_SHIFT_KINDS, note: `shifted validation digits of the fitting half (${variants.map((v) => v.name).join(', ')}; ${perShift} each)` };
  log(`fit shifts: ${n} images (${variants.map((v) => v.name).join(', ')})`);
}
const ev = await evaluateModel({ minTemperature, fitShifts, draws, densitySource: values.density as 'conv-means' | 'penultimate', logitScale, features: features as CalibrationFeature[], model, train: evalTrain, heldOut: evalHeldOut, oodFit: fashionFit, oodEval: fashionEval, extraOod: letters ? { printedLetters: letters } : undefined, samples, seed, log });
ev.evaluation.inputs = preprocessing;
if (!values['raw-calibration']) {
  // the model's own accuracy on the held-out arrays, beside the figures as served
  let sum = 0;
  for (let d = 0; d < draws; d++) {
    const raw = await predictSet(model, heldOut.x, heldOut.n, samples, seed + 6 + 100 * d);
    sum += accuracy(raw.summaries.map((s) => s.digit), heldOut.y);
  }
  ev.evaluation.accuracyOnRaw28x28 = Number((sum / draws).toFixed(4));
}

// a re-evaluation refits the temperature on top of the one already folded in: record the product
const previousTau = values['evaluate-only'] ? (previousEvaluation?.temperature as { value?: number } | undefined)?.value : undefined;
const tempRecord = ev.evaluation.temperature as { value: number } | undefined;
if (previousTau !== undefined && tempRecord) ev.evaluation.temperature = { ...tempRecord, value: Number((previousTau * tempRecord.value).toPrecision(3)), refitFactor: tempRecord.value };

const metadata: ModelMetadata = parseMetadata({
  name,
  version,
  createdAt: new Date().toISOString(),
  labels: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  input: { shape: [28, 28, 1], dtype: 'float32', range: [0, 1], polarity: 'bright-on-dark', description: '28×28 grey, digit bright on dark, centred by centre of mass in a 20×20 box (MNIST form)' },
  inference: { samples, reliabilityThreshold: ev.threshold },
  calibration: ev.calibration,
  evidence: { featureDensity: ev.density },
  architecture,
  training,
  evaluation: ev.evaluation,
});
await saveModelVersion(model, metadata, out);
log(`wrote ${out}`);
log(`figures: ${JSON.stringify(ev.evaluation, null, 1)}`);
