import * as tf from '@tensorflow/tfjs';
import { Sfc32 } from '../engine/prng.js';

/**
 * The CNN: 3×3 'same' convolutions with ReLU in blocks separated by 2×2 max-pooling, one more
 * pool, then Flatten → Dropout → Dense(relu) → Dropout → Dense(softmax). Both dropouts sit in the
 * dense head, so the MC-dropout suffix is two small matmuls while the convolutions run once.
 */
export interface ArchSpec {
  /** Filters of each conv block, e.g. [[32], [64, 64]]. */
  blocks: number[][];
  /** Extra 2×2 pools after the blocks (each block already ends with one). */
  extraPools: number;
  dense: number;
  dropout: [number, number];
  /**
   * Padding of the last 2×2 pool: 'valid' (default) drops an odd edge — on a 7×7 map the 7th row
   * and column, image rows and columns 24–27 — 'same' keeps it (7×7 → 4×4).
   */
  lastPool?: 'valid' | 'same';
  /**
   * Batch normalisation after each convolution, in training only: the served model has the
   * statistics folded into the convolutions' kernels and biases (`toLayersModel`), so serving
   * costs nothing more. Batch statistics come from the batch's digits (not its synthetic
   * non-digits); the statistics served are recomputed over training batches at the end.
   */
  batchNorm?: boolean;
}

/** Batch normalisation's epsilon (Keras' default). */
export const BN_EPSILON = 1e-3;

/**
 * The default model's shape. 32 | 64-64 filters: a heavier prefix (22 MFLOP/image) against a
 * light sampled suffix (576→64→10, 0.075 MFLOP/sample), so T samples cost little more than one pass.
 */
export const DEFAULT_ARCH: ArchSpec = { blocks: [[32, 32], [64, 64]], extraPools: 1, dense: 128, dropout: [0.25, 0.5] };

export interface BatchNormParams {
  gamma: tf.Variable;
  beta: tf.Variable;
  /** The statistics inference uses (not trained: set by `recomputeBatchNorm`). */
  mean: tf.Variable;
  variance: tf.Variable;
}

export interface Params {
  convs: { w: tf.Variable; b: tf.Variable; bn?: BatchNormParams }[];
  dense1: { w: tf.Variable; b: tf.Variable };
  dense2: { w: tf.Variable; b: tf.Variable };
}

function spatialAfterPools(spec: ArchSpec): number {
  let s = 28;
  const pools = spec.blocks.length + spec.extraPools;
  for (let i = 0; i < pools; i++) s = i === pools - 1 && spec.lastPool === 'same' ? Math.ceil(s / 2) : Math.floor(s / 2);
  return s;
}

export function flatFeatures(spec: ArchSpec): number {
  const s = spatialAfterPools(spec);
  return s * s * spec.blocks[spec.blocks.length - 1].at(-1)!;
}

/** He-uniform kernels from a seeded generator (tfjs initialisers are not seedable per call). */
function heUniform(rng: Sfc32, shape: number[], fanIn: number, fanOut = 0): tf.Variable {
  const size = shape.reduce((a, b) => a * b, 1);
  // He for ReLU layers; Glorot (fanOut > 0) for the softmax layer
  const lim = fanOut > 0 ? Math.sqrt(6 / (fanIn + fanOut)) : Math.sqrt(6 / fanIn);
  const v = new Float32Array(size);
  for (let i = 0; i < size; i++) v[i] = (rng.next() * 2 - 1) * lim;
  return tf.variable(tf.tensor(v, shape), true);
}

export function initParams(spec: ArchSpec, seed: number): Params {
  const rng = new Sfc32(seed);
  const convs: Params['convs'] = [];
  let cin = 1;
  spec.blocks.flat().forEach((cout) => {
    convs.push({
      w: heUniform(rng, [3, 3, cin, cout], 9 * cin),
      b: tf.variable(tf.zeros([cout]), true),
      ...(spec.batchNorm
        ? { bn: { gamma: tf.variable(tf.ones([cout]), true), beta: tf.variable(tf.zeros([cout]), true), mean: tf.variable(tf.zeros([cout]), false), variance: tf.variable(tf.ones([cout]), false) } }
        : {}),
    });
    cin = cout;
  });
  const f = flatFeatures(spec);
  return {
    convs,
    dense1: { w: heUniform(rng, [f, spec.dense], f), b: tf.variable(tf.zeros([spec.dense]), true) },
    dense2: { w: heUniform(rng, [spec.dense, 10], spec.dense, 10), b: tf.variable(tf.zeros([10]), true) },
  };
}

/**
 * A 3×3 'same' convolution whose gradients are plain forward convolutions. On wasm, tfjs has no
 * Conv2DBackpropFilter kernel (training a Conv2D falls back to the slow JS backend) and its
 * Conv2DBackpropInput is slow, while the forward Conv2D runs in XNNPACK. So:
 *   dx = conv2d(dy, kernel rotated 180° with in/out channels swapped, 'same');
 *   dW = conv2d(pad(x) with batch and channels swapped, dy as an H×W kernel, 'valid').
 * Measured here on [80,28,28,32]→32: forward 77 ms, dx ≈ forward, dW 147 ms (vs 600 ms for
 * conv2dTranspose and ~1 s for an im2col/concat formulation).
 */
export const conv3x3Same = tf.customGrad(((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, w, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  save([x, w]);
  const value = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same');
  const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
    const [xs, ws] = saved as [tf.Tensor4D, tf.Tensor4D];
    const g = dy as tf.Tensor4D;
    const dx = tf.conv2d(g, tf.reverse(ws, [0, 1]).transpose([0, 1, 3, 2]) as tf.Tensor4D, 1, 'same');
    const p = tf.pad(xs, [[0, 0], [1, 1], [1, 1], [0, 0]]).transpose([3, 1, 2, 0]) as tf.Tensor4D;
    const dw = tf.conv2d(p, g.transpose([1, 2, 0, 3]) as tf.Tensor4D, 1, 'valid').transpose([1, 2, 0, 3]);
    return [dx, dw];
  };
  return { value, gradFunc };
}) as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor4D, w: tf.Tensor) => tf.Tensor4D;

/**
 * The training convolution: on native TensorFlow (tfjs-node) a plain Conv2D, whose gradients are
 * TensorFlow's own Conv2DBackpropInput/Filter kernels; elsewhere (wasm) `conv3x3Same`. The same
 * function either way, so a model trained on one backend serves on any.
 */
export function conv3x3(x: tf.Tensor4D, w: tf.Tensor): tf.Tensor4D {
  return tf.getBackend() === 'tensorflow' ? tf.conv2d(x, w as tf.Tensor4D, 1, 'same') : conv3x3Same(x, w);
}

/** 2×2 max-pooling, stride 2, 'valid' (odd edges dropped) unless told 'same', as Keras MaxPooling2D. */
export function maxPool2(x: tf.Tensor4D, padding: 'valid' | 'same' = 'valid'): tf.Tensor4D {
  return tf.maxPool(x, 2, 2, padding);
}

/** Padding of the i-th 2×2 pool (1-based) of the network. */
function poolPadding(spec: ArchSpec, i: number): 'valid' | 'same' {
  return i === spec.blocks.length + spec.extraPools ? (spec.lastPool ?? 'valid') : 'valid';
}

export interface ForwardOut {
  logits: tf.Tensor2D;
  /** With batch statistics: each normalised convolution's batch mean and variance (kept: the caller disposes them). */
  batchStats?: { mean: tf.Tensor; variance: tf.Tensor }[];
}

export interface ForwardOptions {
  /**
   * Batch normalisation from the batch's own statistics (training) instead of the stored ones,
   * computed over the first `statsRows` rows (the digits; default all).
   */
  batchStatistics?: boolean;
  statsRows?: number;
}

/**
 * The network's forward pass for training. `masks` supplies the two dropout masks (inverted
 * dropout values, from the seeded generator) or is undefined for inference.
 */
export function forward(spec: ArchSpec, p: Params, x: tf.Tensor4D, masks?: [tf.Tensor, tf.Tensor], opts: ForwardOptions = {}): ForwardOut {
  let h = x;
  let k = 0;
  let pool = 0;
  const batchStats: ForwardOut['batchStats'] = opts.batchStatistics ? [] : undefined;
  for (const block of spec.blocks) {
    for (let i = 0; i < block.length; i++, k++) {
      const { w, b, bn } = p.convs[k];
      let z = conv3x3(h, w).add(b) as tf.Tensor4D;
      if (bn && batchStats) {
        const rows = opts.statsRows ?? z.shape[0];
        const m = tf.moments(rows === z.shape[0] ? z : z.slice([0, 0, 0, 0], [rows, -1, -1, -1]), [0, 1, 2]);
        batchStats.push({ mean: tf.keep(m.mean), variance: tf.keep(m.variance) });
        z = tf.batchNorm(z, m.mean, m.variance, bn.beta, bn.gamma, BN_EPSILON) as tf.Tensor4D;
      } else if (bn) {
        z = tf.batchNorm(z, bn.mean, bn.variance, bn.beta, bn.gamma, BN_EPSILON) as tf.Tensor4D;
      }
      h = tf.relu(z);
    }
    h = maxPool2(h, poolPadding(spec, ++pool));
  }
  for (let i = 0; i < spec.extraPools; i++) h = maxPool2(h, poolPadding(spec, ++pool));
  let f: tf.Tensor2D = h.reshape([x.shape[0], -1]);
  if (masks) f = f.mul(masks[0]);
  let d = tf.relu(tf.matMul(f, p.dense1.w).add(p.dense1.b)) as tf.Tensor2D;
  if (masks) d = d.mul(masks[1]);
  return { logits: tf.matMul(d, p.dense2.w).add(p.dense2.b), ...(batchStats ? { batchStats } : {}) };
}

/**
 * The convolutions' kernels and biases as served: with batch normalisation, its inference
 * transform folded in — w′ = w·γ/√(σ²+ε) per output channel, b′ = (b − μ)·γ/√(σ²+ε) + β.
 */
export function servedConvWeights(p: Params): tf.Tensor[] {
  return p.convs.flatMap(({ w, b, bn }) => {
    if (!bn) return [w, b];
    return tf.tidy(() => {
      const scale = bn.gamma.div(bn.variance.add(BN_EPSILON).sqrt());
      return [w.mul(scale), b.sub(bn.mean).mul(scale).add(bn.beta)];
    });
  });
}

/** The serving model: a standard Layers model with the trained weights (Conv2D kernels as trained). */
export function toLayersModel(spec: ArchSpec, p: Params): tf.Sequential {
  const m = tf.sequential({ name: 'mnist_cnn' });
  const pool = (i: number): tf.layers.Layer => tf.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: poolPadding(spec, i), name: `pool${i}` });
  let k = 0;
  spec.blocks.forEach((block, bi) => {
    for (const filters of block) {
      k++;
      m.add(tf.layers.conv2d({ ...(k === 1 ? { inputShape: [28, 28, 1] } : {}), filters, kernelSize: 3, padding: 'same', activation: 'relu', name: `conv${k}` }));
    }
    m.add(pool(bi + 1));
  });
  for (let i = 0; i < spec.extraPools; i++) m.add(pool(spec.blocks.length + i + 1));
  m.add(tf.layers.flatten({ name: 'flatten' }));
  m.add(tf.layers.dropout({ rate: spec.dropout[0], name: 'dropout1' }));
  m.add(tf.layers.dense({ units: spec.dense, activation: 'relu', name: 'dense1' }));
  m.add(tf.layers.dropout({ rate: spec.dropout[1], name: 'dropout2' }));
  m.add(tf.layers.dense({ units: 10, activation: 'softmax', name: 'dense2' }));
  const convs = servedConvWeights(p);
  m.setWeights([...convs, p.dense1.w, p.dense1.b, p.dense2.w, p.dense2.b]);
  if (p.convs.some((c) => c.bn)) tf.dispose(convs);
  return m;
}

/**
 * Every trained parameter: each conv's kernel and bias (and with batch normalisation its γ and β),
 * then the two dense layers'. Without batch normalisation this is Layers' getWeights order.
 */
export function paramList(p: Params): tf.Variable[] {
  return [...p.convs.flatMap((c) => (c.bn ? [c.w, c.b, c.bn.gamma, c.bn.beta] : [c.w, c.b])), p.dense1.w, p.dense1.b, p.dense2.w, p.dense2.b];
}

/** The batch normalisation statistics (not trained), in layer order. */
export function batchNormStats(p: Params): tf.Variable[] {
  return p.convs.flatMap((c) => (c.bn ? [c.bn.mean, c.bn.variance] : []));
}

export function disposeParams(p: Params): void {
  tf.dispose([...paramList(p), ...batchNormStats(p)]);
}
