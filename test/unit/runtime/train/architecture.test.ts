import * as tf from '@tensorflow/tfjs';
import { BN_EPSILON, conv3x3Same, flatFeatures, forward, initParams, paramList, toLayersModel, type ArchSpec } from '../../../../runtime/train/architecture.js';
import { recomputeBatchNorm } from '../../../../runtime/train/train-loop.js';

const spec: ArchSpec = { blocks: [[3], [4, 5]], extraPools: 1, dense: 6, dropout: [0.25, 0.5] };
const maxDiff = (a: tf.Tensor, b: tf.Tensor): number => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];

beforeAll(async () => {
  await tf.setBackend('cpu'); // has the stock Conv2D gradients, the reference
});

describe('conv3x3Same', () => {
  it('computes a same-padded 3×3 convolution and the same gradients as the stock kernels', () => {
    const x = tf.randomNormal([2, 6, 5, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, 3, 4], 0, 1, 'float32', 2);
    const dy = tf.randomNormal([2, 6, 5, 4], 0, 1, 'float32', 3);
    expect(maxDiff(conv3x3Same(x, w), tf.conv2d(x, w as tf.Tensor4D, 1, 'same'))).toBeLessThan(1e-5);
    const ours = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(conv3x3Same(a as tf.Tensor4D, b), dy)))([x, w]);
    const stock = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'), dy)))([x, w]);
    expect(maxDiff(ours[0], stock[0])).toBeLessThan(1e-4);
    expect(maxDiff(ours[1], stock[1])).toBeLessThan(1e-4);
  });
});

describe('toLayersModel', () => {
  it('builds a standard Layers model that computes what the training graph computes', () => {
    const p = initParams(spec, 5);
    const model = toLayersModel(spec, p);
    expect(model.layers.map((l) => l.getClassName())).toEqual([
      'Conv2D', 'MaxPooling2D', 'Conv2D', 'Conv2D', 'MaxPooling2D', 'MaxPooling2D', 'Flatten', 'Dropout', 'Dense', 'Dropout', 'Dense',
    ]);
    expect(flatFeatures(spec)).toBe(3 * 3 * 5);
    const x = tf.randomUniform([3, 28, 28, 1], 0, 1, 'float32', 9) as tf.Tensor4D;
    const ref = tf.softmax(forward(spec, p, x).logits);
    expect(maxDiff(model.predict(x) as tf.Tensor, ref)).toBeLessThan(1e-5);
  });

  it("keeps the last pool's odd edge with lastPool 'same' (7×7 → 4×4)", () => {
    const same: ArchSpec = { ...spec, lastPool: 'same' };
    const p = initParams(same, 6);
    const model = toLayersModel(same, p);
    expect(flatFeatures(same)).toBe(4 * 4 * 5);
    expect(model.getLayer('flatten').outputShape).toEqual([null, 4 * 4 * 5]);
    const x = tf.randomUniform([2, 28, 28, 1], 0, 1, 'float32', 4) as tf.Tensor4D;
    expect(maxDiff(model.predict(x) as tf.Tensor, tf.softmax(forward(same, p, x).logits))).toBeLessThan(1e-5);
  });

  it('initialises the same weights for the same seed', () => {
    const a = initParams(spec, 11);
    const b = initParams(spec, 11);
    const c = initParams(spec, 12);
    expect(maxDiff(a.convs[1].w, b.convs[1].w)).toBe(0);
    expect(maxDiff(a.convs[1].w, c.convs[1].w)).toBeGreaterThan(0);
  });
});

describe('batch normalisation (training only, folded into the served convolutions)', () => {
  const bnSpec: ArchSpec = { ...spec, batchNorm: true };

  /** Parameters with every γ, β and stored statistic set to something other than its initial value. */
  function scrambled(seed: number) {
    const p = initParams(bnSpec, seed);
    p.convs.forEach((c, i) => {
      const n = c.b.shape[0];
      c.b.assign(tf.randomNormal([n], 0, 0.1, 'float32', seed + i));
      c.bn!.gamma.assign(tf.randomUniform([n], 0.5, 1.5, 'float32', seed + 10 + i));
      c.bn!.beta.assign(tf.randomNormal([n], 0, 0.2, 'float32', seed + 20 + i));
      c.bn!.mean.assign(tf.randomNormal([n], 0, 0.3, 'float32', seed + 30 + i));
      c.bn!.variance.assign(tf.randomUniform([n], 0.2, 3, 'float32', seed + 40 + i));
    });
    return p;
  }

  it('serves a plain Layers model (no BatchNormalization layer) that computes the normalised network', () => {
    const p = scrambled(3);
    const model = toLayersModel(bnSpec, p);
    expect(model.layers.map((l) => l.getClassName())).not.toContain('BatchNormalization');
    const x = tf.randomUniform([3, 28, 28, 1], 0, 1, 'float32', 9) as tf.Tensor4D;
    const ref = tf.softmax(forward(bnSpec, p, x).logits);
    expect(maxDiff(model.predict(x) as tf.Tensor, ref)).toBeLessThan(1e-5);
    // and the normalisation did something: without it the answer differs
    const plain = initParams(spec, 3);
    paramList(plain).forEach((v, i) => v.assign(paramList(p).filter((_, j) => !isBn(p, j))[i]));
    expect(maxDiff(tf.softmax(forward(spec, plain, x).logits), ref)).toBeGreaterThan(1e-3);
  });

  const isBn = (p: ReturnType<typeof initParams>, j: number): boolean => {
    const convVars = p.convs.flatMap((c) => [false, false, ...(c.bn ? [true, true] : [])]);
    return convVars[j] ?? false;
  };

  it("normalises with the statistics of the batch's first statsRows rows in training", () => {
    const p = scrambled(4);
    const x = tf.randomUniform([5, 28, 28, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
    const first = forward(bnSpec, p, x, undefined, { batchStatistics: true, statsRows: 3 });
    const conv1 = tf.conv2d(x.slice([0, 0, 0, 0], [3, -1, -1, -1]) as tf.Tensor4D, p.convs[0].w as tf.Tensor4D, 1, 'same').add(p.convs[0].b);
    const m = tf.moments(conv1, [0, 1, 2]);
    expect(maxDiff(first.batchStats![0].mean, m.mean)).toBeLessThan(1e-5);
    expect(maxDiff(first.batchStats![0].variance, m.variance)).toBeLessThan(1e-5);
    // rows 3 and 4 do not move the statistics
    const other = tf.concat([x.slice([0, 0, 0, 0], [3, -1, -1, -1]), tf.zeros([2, 28, 28, 1])]) as tf.Tensor4D;
    const second = forward(bnSpec, p, other, undefined, { batchStatistics: true, statsRows: 3 });
    second.batchStats!.forEach((st, i) => expect(maxDiff(st.mean, first.batchStats![i].mean)).toBeLessThan(1e-6));
    expect(maxDiff(first.logits.slice([0, 0], [3, 10]), second.logits.slice([0, 0], [3, 10]))).toBeLessThan(1e-5);
  });

  it('gives γ and β gradients in training, and gradients through the batch statistics', () => {
    const p = scrambled(5);
    const x = tf.randomUniform([4, 28, 28, 1], 0, 1, 'float32', 6) as tf.Tensor4D;
    const loss = (): tf.Scalar => tf.sum(forward(bnSpec, p, x, undefined, { batchStatistics: true }).logits.square());
    const { grads } = tf.variableGrads(loss);
    expect(Object.keys(grads)).toEqual(expect.arrayContaining([p.convs[0].bn!.gamma.name, p.convs[0].bn!.beta.name]));
    expect(grads[p.convs[0].bn!.mean.name]).toBeUndefined(); // stored statistics are not trained
    // the batch mean removes any shift before it: a conv bias cannot change the output, so its
    // gradient is zero when the statistics are the batch's (the gradient flows through the mean)
    const b = p.convs[1].b.name;
    expect(Math.max(...Array.from(grads[b].abs().dataSync()))).toBeLessThan(1e-3);
    const stored = tf.variableGrads(() => tf.sum(forward(bnSpec, p, x).logits.square())).grads;
    expect(Math.max(...Array.from(stored[b].abs().dataSync()))).toBeGreaterThan(1e-2);
  });

  it('recomputes the stored statistics as the population mean and variance over the batches', () => {
    const p = scrambled(7);
    const batches = [0, 1, 2].map((i) => tf.randomUniform([4, 28, 28, 1], 0, 1, 'float32', 50 + i).dataSync() as Float32Array);
    let k = 0;
    recomputeBatchNorm(bnSpec, p, 3, (x) => x.set(batches[k++]), 4);
    const all = tf.tensor4d(Float32Array.from(batches.flatMap((b) => Array.from(b))), [12, 28, 28, 1]);
    const conv1 = tf.conv2d(all, p.convs[0].w as tf.Tensor4D, 1, 'same').add(p.convs[0].b);
    const m = tf.moments(conv1, [0, 1, 2]);
    expect(maxDiff(p.convs[0].bn!.mean, m.mean)).toBeLessThan(1e-5);
    expect(maxDiff(p.convs[0].bn!.variance, m.variance)).toBeLessThan(1e-4);
    expect(BN_EPSILON).toBe(1e-3);
  });
});
