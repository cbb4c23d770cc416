// functional ops only: tfjs-core alone registers no chained tensor methods (t.mean(), t.add())
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel, layers } from '@tensorflow/tfjs-layers';
import { DropoutMasks, maskTensor } from './dropout-mask.js';
import type { SplitModel } from './split-model.js';

export interface SamplerOptions {
  /** Seed of the mask generator (each sampler instance has its own stream). */
  seed?: number;
  /** Bound on the elements of one suffix activation (T × images × features) per step: bounds wasm memory. */
  maxSuffixElements?: number;
  /** Images per prefix pass. */
  prefixChunk?: number;
}

/**
 * Which features the sampler returns besides the samples (for a feature density): the penultimate
 * features (the last layer's input), or the spatial mean of every Conv2D output in the prefix,
 * concatenated in layer order (one value per channel: the early layers stay sensitive to what the
 * input looks like, where the penultimate features have learnt to ignore it).
 */
export type FeatureSource = 'penultimate' | 'conv-means';

export interface SampleResult {
  /** Softmax samples, row-major [T, N, C]. */
  samples: Float32Array;
  /** With a logit scale other than 1: the same samples as softmax(logits × scale), [T, N, C]. */
  evidenceSamples?: Float32Array;
  /** The features asked for (no dropout), row-major [N, D]. */
  features?: Float32Array;
  featureDim: number;
}

/**
 * Fast MC-dropout: runs the deterministic prefix once per image and only the suffix T times.
 * The T copies are made by broadcasting the [n, F] features against a [T, n, F] mask (no tf.tile)
 * and reshaping to [T·n, F], so each dense layer of the suffix is one large matmul.
 * Work is chunked by images so no step holds more than `maxSuffixElements` values; every
 * intermediate is disposed per chunk.
 */
export class McDropoutSampler {
  private readonly masks: DropoutMasks;
  private readonly maxElements: number;
  private readonly prefixChunk: number;

  constructor(
    private readonly split: SplitModel,
    opts: SamplerOptions = {},
  ) {
    this.masks = new DropoutMasks(opts.seed ?? (Math.random() * 2 ** 32) >>> 0);
    this.maxElements = opts.maxSuffixElements ?? 4_000_000;
    this.prefixChunk = opts.prefixChunk ?? 128;
  }

  /** Images per suffix chunk at T samples. */
  chunkImages(t: number): number {
    return Math.max(1, Math.floor(this.maxElements / (t * this.split.maxSuffixElements)));
  }

  /**
   * Samples `t` softmax outputs for each of `n` images given as n × prod(inputShape) floats.
   * With `logitScale` ≠ 1, also returns each sample's distribution at that scale of its logits
   * (same masks): the confidence mapping may read the MC figures at their own temperature.
   * `withFeatures` also returns those features of each image, multiplied by `projection`
   * ([D, D'], in the backend) when given.
   */
  async sample(pixels: Float32Array, n: number, t: number, withFeatures: FeatureSource | false = false, logitScale = 1, projection?: tf.Tensor2D): Promise<SampleResult> {
    const per = this.split.inputShape.reduce((a, b) => a * b, 1);
    if (pixels.length !== n * per) throw new RangeError(`expected ${n * per} input values for ${n} images, got ${pixels.length}`);
    if (!Number.isInteger(t) || t < 1) throw new RangeError(`samples must be a positive integer, got ${t}`);
    if (!(logitScale > 0) || !Number.isFinite(logitScale)) throw new RangeError(`logit scale must be a positive number, got ${logitScale}`);
    const c = this.split.classes;
    const samples = new Float32Array(t * n * c);
    const evidenceSamples = logitScale !== 1 ? new Float32Array(t * n * c) : undefined;
    let features: Float32Array | undefined;
    let featureDim = 0;
    const step = Math.min(this.prefixChunk, this.chunkImages(t));
    for (let start = 0; start < n; start += step) {
      const m = Math.min(step, n - start);
      const x = tf.tensor(pixels.subarray(start * per, (start + m) * per), [m, ...this.split.inputShape]);
      let prefixed: { feats: tf.Tensor; convMeans?: tf.Tensor };
      try {
        prefixed = this.prefix(x, withFeatures === 'conv-means');
      } catch (err) {
        x.dispose();
        throw err;
      }
      const { feats, convMeans } = prefixed;
      if (feats !== x) x.dispose(); // an empty prefix (features given directly) returns x itself
      try {
        const outs = this.suffix(feats, m, t, logitScale);
        const parts = await Promise.all(outs.map((o) => o.data<'float32'>()));
        tf.dispose(outs);
        parts.forEach((data, j) => {
          const into = j === 0 ? samples : evidenceSamples!;
          for (let s = 0; s < t; s++) into.set(data.subarray(s * m * c, (s + 1) * m * c), (s * n + start) * c);
        });
        if (withFeatures) {
          const raw = convMeans ?? this.penultimate(feats);
          const z = projection ? tf.tidy(() => tf.matMul(raw, projection)) : raw;
          if (z !== raw && raw !== convMeans) raw.dispose();
          const zd = await z.data<'float32'>();
          z.dispose();
          featureDim = zd.length / m;
          features ??= new Float32Array(n * featureDim);
          features.set(zd, start * featureDim);
        }
      } finally {
        feats.dispose();
        convMeans?.dispose();
      }
    }
    return { samples, evidenceSamples, features, featureDim };
  }

  /** The prefix once per image; with `convMeans`, also each Conv2D output's spatial mean, [m, Σ channels]. */
  private prefix(x: tf.Tensor, convMeans: boolean): { feats: tf.Tensor; convMeans?: tf.Tensor } {
    return tf.tidy(() => {
      const means: tf.Tensor[] = [];
      const feats = this.split.prefix.reduce<tf.Tensor>((h, l) => {
        const y = applyPrefixLayer(l, h);
        if (convMeans && l.getClassName() === 'Conv2D') means.push(tf.mean(y, [1, 2]));
        return y;
      }, x);
      if (!convMeans) return { feats };
      if (means.length === 0) throw new Error('conv-means features need Conv2D layers before the first Dropout');
      return { feats, convMeans: tf.concat(means, 1) };
    });
  }

  /**
   * The suffix T times: [T·m, C] softmax rows in sample-major order; with a logit scale ≠ 1 a
   * second block, softmax of the same logits × scale (the last layer must be a softmax Dense).
   */
  private suffix(feats: tf.Tensor, m: number, t: number, logitScale: number): tf.Tensor[] {
    return tf.tidy(() => {
      let h: tf.Tensor = feats;
      let expanded = false;
      const steps = this.split.suffix;
      for (let i = 0; i < steps.length; i++) {
        const step = steps[i];
        if (step.kind === 'layer' && i === steps.length - 1 && logitScale !== 1) {
          const logits = denseLogits(step.layer, h);
          return [tf.softmax(logits), tf.softmax(tf.mul(logits, logitScale))];
        }
        if (step.kind === 'layer') {
          h = step.layer.apply(h) as tf.Tensor;
          continue;
        }
        const tail = h.shape.slice(1);
        const mask = maskTensor(this.masks, expanded ? h.shape : [t, ...h.shape], step.rate);
        // [m, …] against [T, m, …] broadcasts over the samples (no tile, no expandDims copy)
        h = expanded ? tf.mul(h, mask) : tf.reshape(tf.mul(h, mask), [t * m, ...tail]);
        expanded = true;
      }
      return [h];
    });
  }

  /** Prefix then suffix with every Dropout as identity: must equal `model.predict` (checked at warm-up). */
  async deterministic(pixels: Float32Array, n: number): Promise<Float32Array> {
    const x = tf.tensor(pixels, [n, ...this.split.inputShape]);
    const y = tf.tidy(() => {
      let h = this.split.prefix.reduce<tf.Tensor>((a, l) => applyPrefixLayer(l, a), x);
      for (const step of this.split.suffix) if (step.kind === 'layer') h = step.layer.apply(h) as tf.Tensor;
      return h;
    });
    x.dispose();
    const out = await y.data<'float32'>();
    y.dispose();
    return out;
  }

  /** Penultimate features (input of the last layer) with every Dropout as identity. */
  private penultimate(feats: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      let h: tf.Tensor = feats;
      for (const step of this.split.suffix.slice(0, -1)) if (step.kind === 'layer') h = step.layer.apply(h) as tf.Tensor;
      return tf.reshape(h, [feats.shape[0], -1]);
    });
  }
}

/**
 * A prefix layer applied to a batch. A Conv2D with one input channel (a digit model's first layer)
 * runs as the same arithmetic in a depthwise convolution with 32-odd filters per channel: TensorFlow's
 * Conv2D spends 5.9 ms on this 29-MFLOP layer for 64 images (5 GFLOP/s, against 63–79 for the
 * other convolutions), its depthwise kernel less. Every other layer is the layer's own `apply`.
 * The warm-up compares this path with `model.predict` (engine.ts).
 */
export function applyPrefixLayer(l: layers.Layer, h: tf.Tensor): tf.Tensor {
  const depthwise = h.rank === 4 && h.shape[3] === 1 ? asDepthwise(l) : undefined;
  if (!depthwise) return l.apply(h) as tf.Tensor;
  const [kernel, bias] = l.getWeights();
  return tf.fused.depthwiseConv2d({ ...depthwise, x: h as tf.Tensor4D, filter: kernel as tf.Tensor4D, bias: depthwise.useBias ? bias : undefined });
}

type DepthwiseArgs = { strides: [number, number]; pad: 'same' | 'valid'; activation: 'linear' | 'relu'; useBias: boolean };
const depthwiseArgs = new WeakMap<layers.Layer, DepthwiseArgs | null>();

/** A Conv2D layer's arguments for `applyPrefixLayer`'s depthwise form, or undefined when it has none. */
function asDepthwise(l: layers.Layer): DepthwiseArgs | undefined {
  let args = depthwiseArgs.get(l);
  if (args === undefined) {
    args = null;
    const cfg = l.getConfig();
    const dilation = ([] as unknown[]).concat(cfg.dilationRate ?? 1);
    const activation = cfg.activation;
    if (l.getClassName() === 'Conv2D' && cfg.dataFormat === 'channelsLast' && dilation.every((d) => d === 1) && (activation === 'linear' || activation === 'relu') && (cfg.padding === 'same' || cfg.padding === 'valid')) {
      args = { strides: cfg.strides as [number, number], pad: cfg.padding, activation, useBias: cfg.useBias === true };
    }
    depthwiseArgs.set(l, args);
  }
  return args ?? undefined;
}

/** The pre-activation output of a Dense layer with a softmax activation. */
function denseLogits(layer: layers.Layer, h: tf.Tensor): tf.Tensor {
  const cfg = layer.getConfig();
  if (layer.getClassName() !== 'Dense' || cfg.activation !== 'softmax') throw new Error(`a logit scale needs a softmax Dense last layer, got ${layer.getClassName()} ${String(cfg.activation)}`);
  const [kernel, bias] = layer.getWeights();
  const z = tf.matMul(tf.reshape(h, [h.shape[0], -1]), kernel);
  return bias ? tf.add(z, bias) : z;
}

/** The baseline: T full forward passes with `training: true` (tfjs' own dropout; also flips BatchNorm). */
export async function naiveSample(model: LayersModel, pixels: Float32Array, n: number, t: number): Promise<Float32Array> {
  const shape = model.inputs[0].shape.slice(1).map((d) => d ?? 1);
  const x = tf.tensor(pixels, [n, ...shape]);
  const parts: Float32Array[] = [];
  for (let s = 0; s < t; s++) {
    const y = tf.tidy(() => model.apply(x, { training: true }) as tf.Tensor);
    parts.push(await y.data<'float32'>());
    y.dispose();
  }
  x.dispose();
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  parts.forEach((p, i) => out.set(p, i * p.length));
  return out;
}
