import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Engine } from '../../../../runtime/engine/engine.js';
import { saveModelVersion } from '../../../../runtime/train/save-model.js';
import { testBackend } from '../../../support/backend.js';
import { pseudoImages, tinyMetadata } from '../model/tiny-model.js';

/**
 * A model without Dropout layers (as an imported Keras model may be): served with uncertainty
 * "none" — one pass per image — reading a flat 784 input scaled to [0, 255] as its metadata says,
 * and, without a fitted mapping, with its own top probability as confidence (docs/models.md).
 */
function flatModel(): tf.Sequential {
  const m = tf.sequential();
  m.add(tf.layers.dense({ inputShape: [784], units: 16, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }));
  m.add(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }));
  return m;
}

let engine: Engine;
let model: tf.Sequential;

beforeAll(async () => {
  const dir = path.join(await mkdtemp(path.join(os.tmpdir(), 'digitserve-none-')), '1');
  model = flatModel();
  const { calibration: _, evidence: __, ...meta } = tinyMetadata();
  await saveModelVersion(model, { ...meta, evidence: {}, input: { shape: [784], dtype: 'float32', range: [0, 255], polarity: 'bright-on-dark' }, inference: { samples: 1, reliabilityThreshold: 0.3 } }, dir);
  engine = await Engine.load({ modelUri: dir, backend: testBackend, seed: 1 });
});

afterAll(() => {
  engine?.dispose();
  model?.dispose();
});

describe('a model without dropout', () => {
  it('is served with uncertainty "none": one pass on the [0, 255] flat input, confidence its top probability', async () => {
    expect(engine.info.uncertainty).toBe('none');
    const n = 3;
    const x = pseudoImages(n);
    const got = await engine.predict(x, n, 1);
    const want = (model.predict(tf.tensor2d(x.map((v) => v * 255), [n, 784])) as tf.Tensor).arraySync() as number[][];
    got.forEach((p, i) => {
      p.probabilities.forEach((v, k) => expect(v).toBeCloseTo(want[i][k], 5));
      expect(p.digit).toBe(want[i].indexOf(Math.max(...want[i])));
      expect(p.confidence).toBe(p.probability);
      expect(p.reliable).toBe(p.probability >= 0.3);
      expect(p.mutualInformation).toBe(0);
      expect(p.evidence).toEqual({});
    });
  });
});
