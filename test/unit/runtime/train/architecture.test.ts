import * as tf from '@tensorflow/tfjs';
import { conv3x3Same, flatFeatures, forward, initParams, toLayersModel, type ArchSpec } from '../../../../runtime/train/architecture.js';

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
