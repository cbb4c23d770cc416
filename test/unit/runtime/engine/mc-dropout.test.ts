import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../../runtime/engine/backend.js';
import { applyPrefixLayer, McDropoutSampler, naiveSample } from '../../../../runtime/engine/mc-dropout.js';
import { splitAtFirstDropout } from '../../../../runtime/engine/split-model.js';
import { testBackend } from '../../../support/backend.js';
import { pseudoImages, tinyModel } from '../model/tiny-model.js';

// the unit project runs these on the cpu backend, unit-native on native TensorFlow
beforeAll(async () => {
  if (testBackend === 'tensorflow') await selectBackend('tensorflow');
  else await tf.setBackend('cpu');
});

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

describe('splitAtFirstDropout', () => {
  it('puts everything before the first Dropout in the prefix and sizes the suffix', () => {
    const s = splitAtFirstDropout(tinyModel());
    expect(s.prefix.map((l) => l.getClassName())).toEqual(['Conv2D', 'MaxPooling2D', 'Flatten']);
    expect(s.suffix.map((x) => (x.kind === 'dropout' ? 'Dropout' : x.layer.getClassName()))).toEqual(['Dropout', 'Dense', 'Dropout', 'Dense']);
    expect(s.featureSize).toBe(7 * 7 * 4);
    expect(s.classes).toBe(10);
    expect(s.inputShape).toEqual([28, 28, 1]);
  });

  it('refuses a model without Dropout and one that is not a linear stack', () => {
    const plain = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 2 })] });
    expect(() => splitAtFirstDropout(plain)).toThrow(/no Dropout/);
    const input = tf.input({ shape: [4] });
    const a = tf.layers.dense({ units: 4 }).apply(input) as tf.SymbolicTensor;
    const b = tf.layers.dropout({ rate: 0.5 }).apply(a) as tf.SymbolicTensor;
    const sum = tf.layers.add().apply([a, b]) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 2 }).apply(sum) as tf.SymbolicTensor;
    expect(() => splitAtFirstDropout(tf.model({ inputs: input, outputs: out }))).toThrow(/linear stack/);
  });
});

describe('McDropoutSampler', () => {
  it('equals the naive method exactly when the dropout rate is 0', async () => {
    const model = tinyModel(0);
    const x = pseudoImages(5);
    const fast = await new McDropoutSampler(splitAtFirstDropout(model), { seed: 1 }).sample(x, 5, 3);
    const naive = await naiveSample(model, x, 5, 3);
    expect(fast.samples.length).toBe(3 * 5 * 10);
    expect(maxDiff(fast.samples, naive)).toBeLessThan(1e-5);
  });

  it('matches the naive method in distribution at rate 0.5 (mean of many samples)', async () => {
    const model = tinyModel(0.5);
    const n = 3;
    const t = 4000;
    const x = pseudoImages(n, 3);
    const fast = await new McDropoutSampler(splitAtFirstDropout(model), { seed: 2 }).sample(x, n, t);
    const naive = await naiveSample(model, x, n, t);
    const mean = (s: Float32Array): Float64Array => {
      const m = new Float64Array(n * 10);
      for (let k = 0; k < t; k++) for (let j = 0; j < n * 10; j++) m[j] += s[k * n * 10 + j] / t;
      return m;
    };
    const a = mean(fast.samples);
    const b = mean(naive);
    expect(maxDiff(a, b)).toBeLessThan(0.02);
    // and the samples really vary (the test would be vacuous if dropout did nothing)
    expect(maxDiff(fast.samples.subarray(0, n * 10), fast.samples.subarray(n * 10, 2 * n * 10))).toBeGreaterThan(1e-3);
  });

  it('lays samples out as [T, N, C] with each row a distribution', async () => {
    const s = await new McDropoutSampler(splitAtFirstDropout(tinyModel(0.5)), { seed: 3 }).sample(pseudoImages(4), 4, 6);
    for (let r = 0; r < 24; r++) {
      const row = s.samples.subarray(r * 10, r * 10 + 10);
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    }
  });

  it('gives the same answer whatever the chunking when the rate is 0', async () => {
    const split = splitAtFirstDropout(tinyModel(0));
    const x = pseudoImages(7);
    const big = await new McDropoutSampler(split, { seed: 1 }).sample(x, 7, 5, 'penultimate');
    const small = await new McDropoutSampler(split, { seed: 1, maxSuffixElements: 5 * 2 * 196, prefixChunk: 3 }).sample(x, 7, 5, 'penultimate');
    expect(new McDropoutSampler(split, { maxSuffixElements: 5 * 2 * 196 }).chunkImages(5)).toBe(2);
    expect(maxDiff(big.samples, small.samples)).toBeLessThan(1e-6);
    expect(maxDiff(big.features!, small.features!)).toBeLessThan(1e-6);
    expect(big.featureDim).toBe(8);
  });

  it("gives conv-means features: each Conv2D output's spatial mean per channel, whatever the chunking", async () => {
    const model = tinyModel(0.5);
    const x = pseudoImages(7, 3);
    const conv = model.layers.find((l) => l.getClassName() === 'Conv2D')!;
    const sub = tf.model({ inputs: model.inputs, outputs: conv.output as tf.SymbolicTensor });
    const expected = (sub.predict(tf.tensor4d(x, [7, 28, 28, 1])) as tf.Tensor).mean([1, 2]).dataSync();
    const split = splitAtFirstDropout(model);
    const r = await new McDropoutSampler(split, { seed: 1, prefixChunk: 3 }).sample(x, 7, 4, 'conv-means');
    expect(r.featureDim).toBe(conv.getConfig().filters);
    expect(r.features).toHaveLength(expected.length);
    expect(maxDiff(r.features!, expected)).toBeLessThan(1e-6);
    const dense = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 4 }), tf.layers.dropout({ rate: 0.5 }), tf.layers.dense({ units: 3, activation: 'softmax' })] });
    await expect(new McDropoutSampler(splitAtFirstDropout(dense)).sample(new Float32Array(4), 1, 2, 'conv-means')).rejects.toThrow(/Conv2D/);
  });

  it('returns the features times a projection when given one (computed in the backend)', async () => {
    const model = tinyModel(0.5);
    const x = pseudoImages(5, 4);
    const sampler = new McDropoutSampler(splitAtFirstDropout(model), { seed: 1 });
    const plain = await sampler.sample(x, 5, 3, 'penultimate');
    const d = plain.featureDim;
    const p = Float32Array.from({ length: d * d }, (_, i) => Math.sin(i * 1.7));
    const projection = tf.tensor2d(p, [d, d]);
    const before = tf.memory().numTensors;
    const projected = await sampler.sample(x, 5, 3, 'penultimate', 1, projection);
    expect(tf.memory().numTensors).toBe(before);
    expect(projected.featureDim).toBe(d);
    const expected = new Float32Array(5 * d);
    for (let i = 0; i < 5; i++) for (let j = 0; j < d; j++) for (let k = 0; k < d; k++) expected[i * d + j] += plain.features![i * d + k] * p[k * d + j];
    expect(maxDiff(projected.features!, expected)).toBeLessThan(1e-4);
    const means = await sampler.sample(x, 5, 3, 'conv-means', 1, tf.eye(4) as tf.Tensor2D);
    expect(maxDiff(means.features!, (await sampler.sample(x, 5, 3, 'conv-means')).features!)).toBeLessThan(1e-6);
    projection.dispose();
  });

  it('runs a one-channel Conv2D as a depthwise convolution with the same result, and other layers as themselves', () => {
    const x = tf.tensor4d(pseudoImages(3, 5), [3, 28, 28, 1]);
    const cases = [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 6, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }), biasInitializer: tf.initializers.constant({ value: -0.05 }) }),
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 5, kernelSize: [5, 3], strides: 2, padding: 'valid', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }), useBias: false }),
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 4, kernelSize: 3, padding: 'same', activation: 'tanh', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
    ];
    for (const layer of cases) {
      tf.sequential({ layers: [layer] });
      const ours = applyPrefixLayer(layer, x);
      const theirs = layer.apply(x) as tf.Tensor;
      expect(ours.shape).toEqual(theirs.shape);
      expect(maxDiff(ours.dataSync(), theirs.dataSync())).toBeLessThan(1e-5);
      tf.dispose([ours, theirs]);
    }
    // several input channels: the layer's own apply
    const three = tf.layers.conv2d({ inputShape: [28, 28, 3], filters: 2, kernelSize: 3, padding: 'same' });
    tf.sequential({ layers: [three] });
    const x3 = tf.concat([x, x, x], 3);
    expect(maxDiff(applyPrefixLayer(three, x3).dataSync(), (three.apply(x3) as tf.Tensor).dataSync())).toBe(0);
  });

  it('keeps BatchNorm in inference mode (uses moving statistics, unlike training: true)', async () => {
    const model = tinyModel(0, 7, true);
    const x = pseudoImages(4);
    const split = splitAtFirstDropout(model);
    const fast = await new McDropoutSampler(split, { seed: 1 }).sample(x, 4, 1);
    const predicted = (model.predict(tf.tensor4d(x, [4, 28, 28, 1])) as tf.Tensor).dataSync();
    expect(maxDiff(fast.samples, predicted)).toBeLessThan(1e-5);
    const naive = await naiveSample(model, x, 4, 1);
    expect(maxDiff(naive, predicted)).toBeGreaterThan(1e-3);
  });

  it('leaves no tensors behind across many calls', async () => {
    const sampler = new McDropoutSampler(splitAtFirstDropout(tinyModel(0.5)), { seed: 4, maxSuffixElements: 2000 });
    const x = pseudoImages(9);
    await sampler.sample(x, 9, 7, 'penultimate');
    const before = tf.memory().numTensors;
    for (let i = 0; i < 50; i++) await sampler.sample(x, 9, 7, i % 2 === 0 ? 'penultimate' : i % 3 === 1 ? 'conv-means' : false, i % 3 === 0 ? 0.3 : 1);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('with a logit scale, also gives each sample at that scale of its logits (same masks; the served samples unchanged)', async () => {
    const split = splitAtFirstDropout(tinyModel(0.5));
    const x = pseudoImages(4, 5);
    const plain = await new McDropoutSampler(split, { seed: 9 }).sample(x, 4, 6);
    const both = await new McDropoutSampler(split, { seed: 9 }).sample(x, 4, 6, false, 0.4);
    expect(plain.evidenceSamples).toBeUndefined();
    expect(maxDiff(both.samples, plain.samples)).toBeLessThan(1e-6);
    const scaled = both.evidenceSamples!;
    // softmax(z·s) ∝ softmax(z)^s row by row (these tiny-model probabilities do not underflow)
    const expected = new Float32Array(scaled.length);
    for (let r = 0; r < 24; r++) {
      let sum = 0;
      for (let k = 0; k < 10; k++) sum += (expected[r * 10 + k] = both.samples[r * 10 + k] ** 0.4);
      for (let k = 0; k < 10; k++) expected[r * 10 + k] /= sum;
    }
    expect(maxDiff(scaled, expected)).toBeLessThan(1e-5);
    expect(maxDiff(scaled, both.samples)).toBeGreaterThan(1e-3);
    await expect(new McDropoutSampler(split).sample(x, 4, 2, false, 0)).rejects.toThrow(/logit scale/);
  });

  it('refuses a logit scale on a model whose last layer is not a softmax Dense', async () => {
    const m = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 4 }), tf.layers.dropout({ rate: 0.5 }), tf.layers.dense({ units: 3 })] });
    const sampler = new McDropoutSampler(splitAtFirstDropout(m), { seed: 1 });
    await expect(sampler.sample(new Float32Array(4), 1, 2, false, 0.5)).rejects.toThrow(/softmax Dense/);
  });

  it('rejects a pixel buffer of the wrong size and a bad sample count', async () => {
    const sampler = new McDropoutSampler(splitAtFirstDropout(tinyModel()), { seed: 1 });
    await expect(sampler.sample(new Float32Array(783), 1, 2)).rejects.toThrow(RangeError);
    await expect(sampler.sample(new Float32Array(784), 1, 0)).rejects.toThrow(RangeError);
  });
});
