import * as tf from '@tensorflow/tfjs';
import { installFastConv2dGradient } from '../../../../runtime/train/wasm-conv-gradient.js';

const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];

describe('installFastConv2dGradient', () => {
  beforeAll(async () => {
    // The cpu backend has the stock backprop kernels, which serve as the reference.
    await tf.setBackend('cpu');
    installFastConv2dGradient();
  });

  it.each(['same', 'valid'] as const)('matches the backprop kernels for %s padding', (pad) => {
    const x = tf.randomNormal([3, 7, 6, 2], 0, 1, 'float32', 1) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, 2, 4], 0, 1, 'float32', 2) as tf.Tensor4D;
    const dy = tf.randomNormal(pad === 'same' ? [3, 7, 6, 4] : [3, 5, 4, 4], 0, 1, 'float32', 3) as tf.Tensor4D;
    const loss = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, pad), dy));
    const [fx, fw] = tf.grads(loss)([x, w]);

    const refX = tf.conv2dTranspose(dy, w, x.shape, 1, pad);
    const refW = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
      strides: [1, 1], pad, dataFormat: 'NHWC', dilations: [1, 1], filterShape: w.shape,
    } as unknown as tf.NamedAttrMap) as tf.Tensor;
    expect(fx.shape).toEqual(x.shape);
    expect(fw.shape).toEqual(w.shape);
    expect(maxAbsDiff(fx, refX)).toBeLessThan(1e-4);
    expect(maxAbsDiff(fw, refW)).toBeLessThan(1e-4);
  });

  it('keeps the stock gradient for strided convolutions', () => {
    const x = tf.randomNormal([2, 8, 8, 1], 0, 1, 'float32', 4) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, 1, 2], 0, 1, 'float32', 5) as tf.Tensor4D;
    const [gw] = tf.grads((b: tf.Tensor) => tf.sum(tf.conv2d(x, b as tf.Tensor4D, 2, 'same')))([w]);
    expect(gw.shape).toEqual(w.shape);
    expect(Number.isFinite(gw.sum().dataSync()[0])).toBe(true);
  });
});
