import * as tf from '@tensorflow/tfjs';
import { Engine } from '../../../../runtime/engine/engine.js';
import { asLayersModel } from '../../../../runtime/model/store.js';
import { testBackend } from '../../../support/backend.js';
import { pseudoImages, writeTinyModelVersion } from '../model/tiny-model.js';

let engine: Engine;

beforeAll(async () => {
  engine = await Engine.load({ modelUri: await writeTinyModelVersion(0.5), backend: testBackend, seed: 1 });
});

afterAll(() => engine.dispose());

describe('Engine', () => {
  it('reports the backend and the model metadata', () => {
    expect(engine.info.backend).toBe(testBackend);
    expect(engine.info.metadata.name).toBe('tiny');
  });

  it('answers each image with the uncertainty figures, confidence and evidence', async () => {
    const out = await engine.predict(pseudoImages(3), 3, 10);
    expect(out).toHaveLength(3);
    for (const p of out) {
      expect(p.probabilities).toHaveLength(10);
      expect(p.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(p.probability).toBe(p.probabilities[p.digit]);
      expect(p.confidence).toBeGreaterThanOrEqual(0);
      expect(p.confidence).toBeLessThanOrEqual(1);
      expect(Object.keys(p.evidence).sort()).toEqual(['featureDistance', 'inkFraction']);
      expect(p.mutualInformation).toBeGreaterThanOrEqual(0);
    }
  });

  it('gives zero spread at T = 1 and answers an empty batch with nothing', async () => {
    const [p] = await engine.predict(pseudoImages(1), 1, 1);
    expect(p.stdDev).toBe(0);
    expect(p.variationRatio).toBe(0);
    expect(await engine.predict(new Float32Array(0), 0, 5)).toEqual([]);
  });

  it('keeps the tensor count flat across many calls', async () => {
    await engine.predict(pseudoImages(5), 5, 8);
    const before = engine.memory().numTensors;
    for (let i = 0; i < 40; i++) await engine.predict(pseudoImages(1 + (i % 6), i), 1 + (i % 6), 1 + (i % 12));
    expect(engine.memory().numTensors).toBe(before);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('Engine.load', () => {
  it('reads the MC figures at the calibration logit scale and reports them; the served figures stay unscaled', async () => {
    const { writeFile, readFile } = await import('node:fs/promises');
    const path = await import('node:path');
    const dir = await writeTinyModelVersion(0.5, '3');
    const meta = JSON.parse(await readFile(path.join(dir, 'metadata.json'), 'utf8'));
    meta.calibration.logitScale = 0.25;
    await writeFile(path.join(dir, 'metadata.json'), JSON.stringify(meta));
    const scaled = await Engine.load({ modelUri: dir, backend: testBackend, seed: 1 });
    try {
      const x = pseudoImages(3, 4);
      const [a, b] = [await scaled.predict(x, 3, 10), await engine.predict(x, 3, 10)];
      a.forEach((p, i) => {
        expect(Object.keys(p.evidence).sort()).toEqual(['featureDistance', 'inkFraction', 'scaledMaxProbability', 'scaledMutualInformation', 'scaledPredictiveEntropy']);
        // a softer distribution: more entropy than the served one, a lower top probability
        expect(p.evidence.scaledPredictiveEntropy).toBeGreaterThan(p.predictiveEntropy);
        expect(p.evidence.scaledMaxProbability).toBeLessThan(p.probability);
        expect(p.probabilities.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
        expect(b[i].evidence.scaledMaxProbability).toBeUndefined();
      });
      // the same mapping read at scale 1 gives other confidences
      expect(a.map((p) => p.confidence)).not.toEqual(b.map((p) => p.confidence));
    } finally {
      scaled.dispose();
    }
  });

  it('refuses metadata whose feature density does not fit the model', async () => {
    const { writeFile, readFile } = await import('node:fs/promises');
    const path = await import('node:path');
    const dir = await writeTinyModelVersion(0.5, '2');
    const meta = JSON.parse(await readFile(path.join(dir, 'metadata.json'), 'utf8'));
    meta.evidence.featureDensity = { ...meta.evidence.featureDensity, dim: 2, means: meta.evidence.featureDensity.means.map(() => [0, 0]), whitening: [1, 0, 0, 1] };
    await writeFile(path.join(dir, 'metadata.json'), JSON.stringify(meta));
    await expect(Engine.load({ modelUri: dir, backend: testBackend })).rejects.toThrow(/feature density has dim 2/);
  });

  it('reads a conv-means density from the conv channels (the tiny model has 4) and checks its size', async () => {
    const { writeFile, readFile } = await import('node:fs/promises');
    const path = await import('node:path');
    const dir = await writeTinyModelVersion(0.5, '3');
    const meta = JSON.parse(await readFile(path.join(dir, 'metadata.json'), 'utf8'));
    const identity = (d: number): number[] => Array.from({ length: d * d }, (_, k) => (k % (d + 1) === 0 ? 1 : 0));
    meta.evidence.featureDensity = { ...meta.evidence.featureDensity, source: 'conv-means', dim: 4, means: meta.evidence.featureDensity.means.map(() => [0, 0, 0, 0]), whitening: identity(4) };
    await writeFile(path.join(dir, 'metadata.json'), JSON.stringify(meta));
    const conv = await Engine.load({ modelUri: dir, backend: testBackend, seed: 1 });
    try {
      const x = pseudoImages(2, 4);
      const [p] = await conv.predict(x, 2, 5);
      // identity whitening, zero means: the distance is the mean square of the 4 channel means
      const convModel = asLayersModel(conv.model);
      const sub = tf.model({ inputs: convModel.inputs, outputs: convModel.layers.find((l) => l.getClassName() === 'Conv2D')!.output as tf.SymbolicTensor });
      const m = Array.from((sub.predict(tf.tensor4d(x.subarray(0, 784), [1, 28, 28, 1])) as tf.Tensor).mean([1, 2]).dataSync());
      expect(p.evidence.featureDistance).toBeCloseTo(m.reduce((a, v) => a + v * v, 0) / 4, 5);
    } finally {
      conv.dispose();
    }
    meta.evidence.featureDensity = { ...meta.evidence.featureDensity, dim: 2, means: meta.evidence.featureDensity.means.map(() => [0, 0]), whitening: identity(2) };
    await writeFile(path.join(dir, 'metadata.json'), JSON.stringify(meta));
    await expect(Engine.load({ modelUri: dir, backend: testBackend })).rejects.toThrow(/dim 2, the model's conv-means features 4/);
  });
});
