import * as tf from '@tensorflow/tfjs';
import { DropoutMasks, maskTensor } from '../engine/dropout-mask.js';
import { Sfc32 } from '../engine/prng.js';
import { DEFAULT_AUGMENT, augmentImage, type AugmentOptions } from './augment.js';
import { flatFeatures, forward, initParams, paramList, type ArchSpec, type Params } from './architecture.js';
import type { ImageSet } from './datasets.js';
import { makeOutlier } from './outliers.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  /** Synthetic non-digits added per batch, as a share of the batch's digits (outlier exposure). */
  outlierShare: number;
  /** Weight of the outlier loss (cross-entropy to the uniform distribution). */
  outlierWeight: number;
  augment: AugmentOptions | null;
  /**
   * The training digits as the runtime's preprocessing serves them (same order and labels), and
   * the share of training draws taken from them instead of the package's arrays, so that the
   * network sees served-form digits too.
   */
  preprocessed?: ImageSet;
  preprocessedShare?: number;
  /**
   * Augmentation annealing: over the last `share` of the steps the augmentation ranges shrink
   * linearly to `floor` times their size (the synthetic non-digits stay as they were). Meant to
   * end on near-clean digits; measured to make the MC mean softer instead (docs/engine.md, run F2).
   */
  augmentAnneal?: { share: number; floor: number };
  /**
   * Stochastic weight averaging (Izmailov et al. 2018): the cosine decay reaches `lrFactor` × the
   * learning rate at `start` (a share of the steps), the rate stays there, and the weights served
   * are the mean of the snapshots taken at the end of every epoch from then on (and at the last step).
   */
  swa?: { start: number; lrFactor: number };
  /**
   * Mixed-rate dropout: the first dropout of the first round(share × digits) rows of every batch
   * (the batch's order is random) at `rate` instead of the architecture's. Found by accident: the
   * session-7 mask defect trained 18 of each 64 digits with the first dropout at 0.5, and those
   * networks came out softer and better calibrated than with one rate (docs/engine.md).
   */
  heavyDropout?: { share: number; rate: number };
  /** Stop after this many steps (for tests); default: all. */
  maxSteps?: number;
  /**
   * A file the run's state is written to after every epoch (runtime/train/checkpoint.ts); a run
   * finding one of the same options and data continues after its last epoch — with the same
   * result as a run never stopped, up to float rounding of Adam's bias correction.
   */
  checkpoint?: string;
  /** Stop after this many epochs, leaving the checkpoint to continue from (train in slices). */
  stopAfterEpoch?: number;
  log: (line: string) => void;
}

export const DEFAULT_TRAIN: Omit<TrainOptions, 'log'> = {
  epochs: 5,
  batchSize: 64,
  learningRate: 2e-3,
  seed: 1,
  outlierShare: 0.25,
  outlierWeight: 0.1,
  augment: { ...DEFAULT_AUGMENT, elasticPx: 2 },
  preprocessedShare: 0.5,
  swa: { start: 0.6, lrFactor: 0.2 },
  // 18 of a batch's 64 digits, as the session-7 mask defect did: models/mnist-cnn/5 (docs/engine.md)
  heavyDropout: { share: 0.28, rate: 0.5 },
};

/** 1 until the last `share` of the steps, then linearly down to `floor` at the last step. */
export function annealFactor(step: number, total: number, a: { share: number; floor: number }): number {
  const start = total * (1 - a.share);
  if (a.share <= 0 || step < start) return 1;
  return 1 - (1 - a.floor) * Math.min(1, (step - start) / Math.max(1, total - start));
}

function scaledAugment(a: AugmentOptions, f: number): AugmentOptions {
  if (f === 1) return a;
  return { maxRotationDeg: a.maxRotationDeg * f, maxScale: a.maxScale * f, maxShiftPx: a.maxShiftPx * f, maxShear: a.maxShear * f, thicknessProb: a.thicknessProb * f, elasticPx: (a.elasticPx ?? 0) * f };
}

/**
 * The learning rate at a step: cosine decay from `lr` to 2% of it over all steps, or with SWA to
 * `swa.lrFactor` × lr at `swa.start` × total, constant after.
 */
export function learningRateAt(step: number, total: number, lr: number, swa?: { start: number; lrFactor: number }): number {
  if (!swa) return lr * (0.02 + 0.98 * 0.5 * (1 + Math.cos((Math.PI * step) / total)));
  const end = Math.max(1, swa.start * total);
  if (step >= end) return lr * swa.lrFactor;
  return lr * (swa.lrFactor + (1 - swa.lrFactor) * 0.5 * (1 + Math.cos((Math.PI * step) / end)));
}

/** A running mean of parameter snapshots (SWA): add() folds the current values in. */
export class WeightAverage {
  private sums: tf.Tensor[] | undefined;
  count = 0;

  /** The sums and count so far (a checkpoint's), and continuing from them. */
  async state(): Promise<{ count: number; sums: Float32Array[] } | undefined> {
    if (!this.sums) return undefined;
    return { count: this.count, sums: await Promise.all(this.sums.map((t) => t.data<'float32'>())) };
  }

  restore(vars: tf.Variable[], s: { count: number; sums: Float32Array[] }): void {
    if (this.sums) tf.dispose(this.sums);
    this.sums = s.sums.map((v, i) => tf.tensor(v, vars[i].shape));
    this.count = s.count;
  }

  add(vars: tf.Variable[]): void {
    const prev = this.sums;
    this.sums = tf.tidy(() => vars.map((v, i) => (prev ? prev[i].add(v) : v.clone())));
    if (prev) tf.dispose(prev);
    this.count++;
  }

  /** Frees the sums without using them. */
  dispose(): void {
    if (this.sums) tf.dispose(this.sums);
    this.sums = undefined;
  }

  /** Writes the mean into the variables and frees the sums. */
  assignTo(vars: tf.Variable[]): void {
    if (!this.sums) return;
    const sums = this.sums;
    vars.forEach((v, i) => {
      const mean = sums[i].div(this.count);
      v.assign(mean);
      mean.dispose(); // assign shares the data; the tensor itself would stay counted
    });
    tf.dispose(sums);
    this.sums = undefined;
  }
}

function shuffle(idx: Int32Array, rng: Sfc32): void {
  for (let i = idx.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    const t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
}

/** What a checkpoint must have been written with to be continued: the options and the data. */
export function trainFingerprint(spec: ArchSpec, data: ImageSet, o: TrainOptions): string {
  let labels = 0;
  for (let i = 0; i < data.n; i++) labels = (labels * 31 + data.y[i] + 1) % 1_000_000_007;
  // the pixels: a sample of them, rounded (the same files give the same values)
  let pixels = 0;
  for (let i = 0; i < data.x.length; i += 997) pixels = (pixels * 31 + Math.round(data.x[i] * 255)) % 1_000_000_007;
  const { log: _log, preprocessed, checkpoint: _c, stopAfterEpoch: _s, ...rest } = o;
  return JSON.stringify({ spec, ...rest, images: data.n, labels, pixels, preprocessed: preprocessed?.n ?? 0 });
}

/** A [rows, f] dropout mask at `rate`, its first `heavyRows` rows redrawn at `heavyRate` (a fresh array: every backend may keep it). */
export function mixedMask(masks: DropoutMasks, rows: number, f: number, rate: number, heavyRows: number, heavyRate: number): tf.Tensor {
  const values = masks.fresh(rows * f, rate);
  if (heavyRows > 0) values.set(masks.fresh(Math.min(heavyRows, rows) * f, heavyRate));
  return tf.tensor(values, [rows, f]);
}

/**
 * Trains the network with Adam and a cosine learning-rate decay (optionally SWA); deterministic for a seed
 * (initialisation, order, augmentation, outliers and dropout masks all come from seeded generators).
 */
export async function trainNetwork(spec: ArchSpec, data: ImageSet, o: TrainOptions): Promise<{ params: Params; steps: number; averaged: number; stopped?: boolean }> {
  const params = initParams(spec, o.seed);
  const rng = new Sfc32(o.seed ^ 0x5eed);
  const masks = new DropoutMasks(o.seed ^ 0xd20f);
  const optimizer = tf.train.adam(o.learningRate);
  const stepsPerEpoch = Math.ceil(data.n / o.batchSize);
  const total = Math.min(o.maxSteps ?? Infinity, o.epochs * stepsPerEpoch);
  const nOut = Math.round(o.batchSize * o.outlierShare);
  const f = flatFeatures(spec);
  const idx = Int32Array.from({ length: data.n }, (_, i) => i);
  const t0 = performance.now();
  const vars = paramList(params);
  const average = o.swa ? new WeightAverage() : undefined;
  let step = 0;
  let firstEpoch = 0;
  const fingerprint = o.checkpoint ? trainFingerprint(spec, data, o) : '';
  const saved = o.checkpoint ? await loadCheckpoint(o.checkpoint, fingerprint) : undefined;
  if (saved) {
    vars.forEach((v, i) => v.assign(tf.tensor(saved.params[i], v.shape)));
    await optimizer.setWeights(saved.optimizer.map((w) => ({ name: w.name, tensor: tf.tensor(w.values, w.shape, w.dtype) })));
    if (saved.swa) average?.restore(vars, saved.swa);
    rng.restore(saved.rng);
    masks.restore(saved.masks);
    idx.set(saved.order);
    firstEpoch = saved.epoch;
    step = saved.step;
    o.log(`continuing from ${o.checkpoint}: ${saved.epoch} epoch(s), ${saved.step} steps done`);
  }
  /** The digits `which` (indices into data) into x as trained: served form by share, augmented. */
  const drawDigits = (which: Int32Array, x: Float32Array, aug: AugmentOptions | null): Int32Array => {
    const labels = new Int32Array(which.length);
    for (let i = 0; i < which.length; i++) {
      const k = which[i];
      const src = o.preprocessed && rng.next() < (o.preprocessedShare ?? 0) ? o.preprocessed.x : data.x;
      if (aug) augmentImage(src, k * 784, x, i * 784, rng, aug);
      else x.set(src.subarray(k * 784, (k + 1) * 784), i * 784);
      labels[i] = data.y[k];
    }
    return labels;
  };
  const firstStep = step;
  for (let epoch = firstEpoch; epoch < o.epochs && step < total; epoch++) {
    shuffle(idx, rng);
    let lossSum = 0;
    let correct = 0;
    let seen = 0;
    for (let b = 0; b < data.n && step < total; b += o.batchSize, step++) {
      const nd = Math.min(o.batchSize, data.n - b);
      const aug = o.augment && o.augmentAnneal ? scaledAugment(o.augment, annealFactor(step, total, o.augmentAnneal)) : o.augment;
      const rows = nd + nOut;
      const x = new Float32Array(rows * 784);
      const labels = drawDigits(idx.subarray(b, b + nd), x, aug);
      for (let i = nd; i < rows; i++) makeOutlier(x, i * 784, rng);
      (optimizer as unknown as { learningRate: number }).learningRate = learningRateAt(step, total, o.learningRate, o.swa);
      // each mask in its own array: tfjs-node reads a tensor's array only when an op first uses it
      const m1 = o.heavyDropout ? mixedMask(masks, rows, f, spec.dropout[0], Math.round(o.heavyDropout.share * nd), o.heavyDropout.rate) : maskTensor(masks, [rows, f], spec.dropout[0]);
      const m2 = maskTensor(masks, [rows, spec.dense], spec.dropout[1]);
      const xs = tf.tensor4d(x, [rows, 28, 28, 1]);
      const ys = tf.oneHot(tf.tensor1d(labels, 'int32'), 10);
      let predicted: tf.Tensor | undefined;
      const loss = optimizer.minimize(() => {
        const { logits, batchStats } = forward(spec, params, xs, [m1, m2], { batchStatistics: spec.batchNorm, statsRows: nd });
        batchStats?.forEach((st) => tf.dispose([st.mean, st.variance]));
        const digitLogits = logits.slice([0, 0], [nd, 10]);
        predicted = tf.keep(digitLogits.argMax(1));
        const ce = tf.losses.softmaxCrossEntropy(ys, digitLogits);
        if (nOut === 0) return ce as tf.Scalar;
        const outLogSoftmax = tf.logSoftmax(logits.slice([nd, 0], [nOut, 10]));
        return ce.add(outLogSoftmax.mean().neg().mul(o.outlierWeight)) as tf.Scalar;
      }, true);
      lossSum += (await loss!.data())[0] * nd;
      const pred = await predicted!.data();
      for (let i = 0; i < nd; i++) if (pred[i] === labels[i]) correct++;
      seen += nd;
      tf.dispose([loss!, predicted!, m1, m2, xs, ys]);
      if ((step + 1) % 20 === 0 || b + o.batchSize >= data.n) {
        const el = (performance.now() - t0) / 1000;
        // rates over the steps this process ran (a continued run started at firstStep)
        const ran = step + 1 - firstStep;
        const eta = (el / ran) * (total - step - 1);
        o.log(`epoch ${epoch + 1}/${o.epochs} step ${step + 1}/${total} loss ${(lossSum / seen).toFixed(4)} train-acc ${((100 * correct) / seen).toFixed(2)}% ${((ran * o.batchSize) / el).toFixed(0)} img/s eta ${eta.toFixed(0)}s`);
      }
    }
    if (average && (step >= o.swa!.start * total || step >= total)) average.add(vars);
    if (o.checkpoint) {
      await saveCheckpoint(o.checkpoint, {
        fingerprint,
        epoch: epoch + 1,
        step,
        params: await Promise.all(vars.map((v) => v.data<'float32'>())),
        optimizer: await Promise.all(
          (await optimizer.getWeights()).map(async (w) => {
            const values = (await w.tensor.data()) as Float32Array | Int32Array;
            // the step count comes as a new scalar; the moments are the optimizer's own variables
            if (!(w.tensor instanceof tf.Variable)) w.tensor.dispose();
            return { name: w.name, dtype: w.tensor.dtype as 'float32' | 'int32', shape: w.tensor.shape, values };
          }),
        ),
        swa: await average?.state(),
        rng: rng.state(),
        masks: masks.state(),
        order: idx.slice(),
      });
      o.log(`checkpoint after epoch ${epoch + 1}: ${o.checkpoint}`);
    }
    if (o.stopAfterEpoch !== undefined && epoch + 1 >= o.stopAfterEpoch && epoch + 1 < o.epochs && step < total) {
      o.log(`stopping after epoch ${epoch + 1} of ${o.epochs} (run again with the same options to continue)`);
      optimizer.dispose();
      average?.dispose();
      return { params, steps: step, averaged: 0, stopped: true };
    }
  }
  if (average && average.count > 0) {
    o.log(`weights: mean of ${average.count} snapshots (SWA from step ${Math.ceil(o.swa!.start * total)})`);
    average.assignTo(vars);
  }
  optimizer.dispose();
  if (spec.batchNorm) {
    const batches = Math.min(BN_STATS_BATCHES, Math.ceil(data.n / o.batchSize));
    recomputeBatchNorm(spec, params, batches, (x) => {
      const which = Int32Array.from({ length: o.batchSize }, () => Math.floor(rng.next() * data.n));
      drawDigits(which, x, o.augment);
    }, o.batchSize);
    o.log(`batch normalisation statistics: recomputed over ${batches} batches of ${o.batchSize} training digits drawn as trained`);
  }
  return { params, steps: step, averaged: average?.count ?? 0 };
}

/** Training batches the served batch normalisation statistics are computed over. */
export const BN_STATS_BATCHES = 200;

/**
 * Sets each batch normalisation's stored mean and variance to the training digits' (with the final
 * weights, which SWA averaged): over `batches` batches that `fill` draws, the mean of the batch means
 * and E[x²] − mean² from the batch variances and means (the population variance, not a running average).
 */
export function recomputeBatchNorm(spec: ArchSpec, p: Params, batches: number, fill: (x: Float32Array) => void, batchSize: number): void {
  const layers = p.convs.filter((c) => c.bn);
  if (layers.length === 0) return;
  const sums = layers.map((c) => ({ mean: tf.zerosLike(c.bn!.mean), square: tf.zerosLike(c.bn!.variance) }));
  for (let b = 0; b < batches; b++) {
    const x = new Float32Array(batchSize * 784);
    fill(x);
    // the statistics are kept (tf.keep in forward); everything else of the pass is freed
    const stats = tf.tidy(() => {
      const out = forward(spec, p, tf.tensor4d(x, [batchSize, 28, 28, 1]), undefined, { batchStatistics: true });
      return out.batchStats!;
    });
    stats.forEach((st, i) => {
      const prev = sums[i];
      sums[i] = tf.tidy(() => ({ mean: prev.mean.add(st.mean), square: prev.square.add(st.variance.add(st.mean.square())) }));
      tf.dispose([prev.mean, prev.square, st.mean, st.variance]);
    });
  }
  layers.forEach((c, i) => {
    tf.tidy(() => {
      const mean = sums[i].mean.div(batches);
      c.bn!.mean.assign(mean);
      c.bn!.variance.assign(sums[i].square.div(batches).sub(mean.square()).relu());
    });
    tf.dispose([sums[i].mean, sums[i].square]);
  });
}
