import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../../runtime/engine/backend.js';
import { conv3x3 } from '../../../../runtime/train/architecture.js';
import { testBackend } from '../../../support/backend.js';

// The training convolution on the backend under test (wasm: the forward-convolution gradients of
// conv3x3Same; native TensorFlow: its own Conv2D kernels) against the cpu backend's stock Conv2D.
describe(`conv3x3 on ${testBackend}`, () => {
  it("computes the cpu backend's same-padded 3×3 convolution and its gradients", async () => {
    await tf.setBackend('cpu');
    const x = tf.randomNormal([2, 7, 6, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, 3, 4], 0, 1, 'float32', 2) as tf.Tensor4D;
    const dy = tf.randomNormal([2, 7, 6, 4], 0, 1, 'float32', 3);
    const loss = (conv: (a: tf.Tensor4D, b: tf.Tensor4D) => tf.Tensor) => (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(conv(a as tf.Tensor4D, b as tf.Tensor4D), dy));
    const stockConv = (a: tf.Tensor4D, b: tf.Tensor4D) => tf.conv2d(a, b, 1, 'same');
    const ref = [stockConv(x, w), ...tf.grads(loss(stockConv))([x, w])].map((t) => t.arraySync());
    const [xs, ws, dys] = [x, w, dy].map((t) => ({ values: t.dataSync().slice(), shape: t.shape }));

    expect((await selectBackend(testBackend)).name).toBe(testBackend);
    const [x2, w2, dy2] = [xs, ws, dys].map((t) => tf.tensor(t.values, t.shape));
    const ours = [conv3x3(x2 as tf.Tensor4D, w2), ...tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(conv3x3(a as tf.Tensor4D, b), dy2)))([x2, w2])];
    ours.forEach((t, i) => {
      expect(tf.max(tf.abs(tf.sub(t, tf.tensor(ref[i] as number[])))).dataSync()[0]).toBeLessThan(1e-4);
    });
  });
});
