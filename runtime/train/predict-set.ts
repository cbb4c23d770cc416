import type * as tf from '@tensorflow/tfjs';
import { McDropoutSampler, type FeatureSource } from '../engine/mc-dropout.js';
import { splitAtFirstDropout } from '../engine/split-model.js';
import { summarizeBatch, type SampleSummary } from '../engine/uncertainty.js';

export interface SetPrediction {
  summaries: SampleSummary[];
  /** The same samples summarised at the logit scale asked for (= `summaries` at scale 1). */
  scaled: SampleSummary[];
  /** The features asked for (penultimate by default), without dropout, n × dim. */
  features: Float32Array;
  dim: number;
}

/** Runs the serving engine's MC-dropout sampler over a whole image set, in batches. */
export async function predictSet(model: tf.LayersModel, x: Float32Array, n: number, t: number, seed: number, logitScale = 1, featureSource: FeatureSource = 'penultimate', batch = 256): Promise<SetPrediction> {
  const split = splitAtFirstDropout(model);
  const sampler = new McDropoutSampler(split, { seed });
  const summaries: SampleSummary[] = [];
  const scaled: SampleSummary[] = [];
  let features = new Float32Array(0);
  let dim = 0;
  for (let s = 0; s < n; s += batch) {
    const m = Math.min(batch, n - s);
    const r = await sampler.sample(x.subarray(s * 784, (s + m) * 784), m, t, featureSource, logitScale);
    const served = summarizeBatch(r.samples, t, m, split.classes);
    summaries.push(...served);
    scaled.push(...(r.evidenceSamples ? summarizeBatch(r.evidenceSamples, t, m, split.classes) : served));
    if (dim === 0) {
      dim = r.featureDim;
      features = new Float32Array(n * dim);
    }
    features.set(r.features!, s * dim);
  }
  return { summaries, scaled, features, dim };
}
