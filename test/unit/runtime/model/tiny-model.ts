// Test fixture: a tiny model version on disk (a small CNN with two Dropout layers) and valid metadata.
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { ModelMetadata } from '../../../../runtime/model/metadata.js';
import { saveModelVersion } from '../../../../runtime/train/save-model.js';

export const DENSE = 8;

export function tinyModel(rate = 0.5, seed = 7, batchNorm = false): tf.Sequential {
  const init = (s: number) => tf.initializers.glorotUniform({ seed: seed + s });
  const m = tf.sequential();
  m.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(1) }));
  if (batchNorm) m.add(tf.layers.batchNormalization({ movingMeanInitializer: 'ones', movingVarianceInitializer: tf.initializers.constant({ value: 4 }) }));
  m.add(tf.layers.maxPooling2d({ poolSize: 4, strides: 4 }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dropout({ rate }));
  m.add(tf.layers.dense({ units: DENSE, activation: 'relu', kernelInitializer: init(2), biasInitializer: 'ones' }));
  m.add(tf.layers.dropout({ rate }));
  m.add(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init(3) }));
  return m;
}

export function tinyMetadata(version = '1'): ModelMetadata {
  const whitening = new Array<number>(DENSE * DENSE).fill(0);
  for (let i = 0; i < DENSE; i++) whitening[i * DENSE + i] = 1;
  return {
    name: 'tiny',
    version,
    labels: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    input: { shape: [28, 28, 1], dtype: 'float32', range: [0, 1], polarity: 'bright-on-dark' },
    inference: { samples: 5, reliabilityThreshold: 0.5 },
    calibration: {
      method: 'logistic',
      features: ['maxProbability', 'mutualInformation', 'logFeatureDistance', 'inkFraction'],
      mean: [0.5, 0.1, 0, 0.2],
      scale: [0.2, 0.1, 1, 0.1],
      coefficients: [2, -1, -0.5, 0.1],
      intercept: 0.3,
      nonDigitShare: 0.5,
      samples: 5,
      fitSet: 'made up for tests',
    },
    evidence: {
      featureDensity: { method: 'mahalanobis-shared-covariance', layer: 'dense', dim: DENSE, means: Array.from({ length: 10 }, (_, c) => new Array<number>(DENSE).fill(c / 10)), whitening },
    },
    training: { data: 'none' },
    evaluation: { accuracy: 0.1 },
  };
}

/** Writes a tiny model version into a fresh temporary directory and returns the directory. */
export async function writeTinyModelVersion(rate = 0.5, version = '1'): Promise<string> {
  const dir = path.join(await mkdtemp(path.join(os.tmpdir(), 'digitserve-model-')), version);
  const m = tinyModel(rate);
  await saveModelVersion(m, tinyMetadata(version), dir);
  m.dispose();
  return dir;
}

/** Deterministic pseudo-images: n × 784 values in 0..1. */
export function pseudoImages(n: number, seed = 1): Float32Array {
  const x = new Float32Array(n * 784);
  let s = seed;
  for (let i = 0; i < x.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    x[i] = (s >>> 16) % 5 === 0 ? ((s >>> 8) & 255) / 255 : 0;
  }
  return x;
}
