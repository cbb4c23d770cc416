import * as tf from '@tensorflow/tfjs';
import { McDropoutSampler } from '../engine/mc-dropout.js';
import { splitAtFirstDropout, type SplitModel } from '../engine/split-model.js';
import { summarizeBatch } from '../engine/uncertainty.js';
import type { ImageSet } from './datasets.js';
import { negativeLogLikelihood } from './metrics.js';

/**
 * The lowest temperature the fit may choose (default of `fitAndFoldTemperature`'s `minTau`). A
 * temperature far below 1 makes every MC sample one-hot (run W3's τ = 0.0045: logits × 222), so
 * the served mean becomes a vote share and the expected entropy ≈ 0 — the split of the predictive
 * entropy into aleatoric and epistemic parts then says nothing (#16). Measured on the networks of
 * mnist-cnn/2 and /3 (validation digits, T = 30): at τ = 0.25 wrong answers still average 0.37–0.54
 * nats of expected entropy and 0.32–0.40 of mutual information (one-hot samples: 0.018 / 0.59). The
 * floor was 0.5 until the three seeds' NLL-best τ turned out to lie below it (0.39, 0.29, ≤ 0.25):
 * refitted with 0.25, validation ECE fell from 1.04 / 1.18 / 1.49 % to 0.72 / 0.53 / 0.65 %.
 */
export const MIN_TEMPERATURE = 0.25;

/**
 * Temperature scaling of the MC-dropout predictive distribution, folded into the last Dense layer
 * (kernel and bias divided by τ), so the served model stays a plain Layers model. τ minimises
 * the NLL of the mean of T softmax samples on `set` (a geometric grid from `minTau` to
 * 400 × 0.005, then a finer one around the best), never below `minTau`: the samples stay soft.
 * The convolutional prefix is computed once; only the cheap suffix is re-sampled per τ.
 */
export async function fitAndFoldTemperature(model: tf.LayersModel, set: ImageSet, t: number, seed: number, minTau = MIN_TEMPERATURE): Promise<{ temperature: number; nllBefore: number; nllAfter: number; minTemperature: number }> {
  const split = splitAtFirstDropout(model);
  const last = model.layers[model.layers.length - 1];
  if (last.getClassName() !== 'Dense') throw new Error('temperature folding needs a Dense last layer');
  // getWeights() returns the variables themselves: keep copies of the original values
  const [kernel, bias] = last.getWeights().map((w) => w.clone());
  const x = tf.tensor(set.x, [set.n, ...split.inputShape]);
  const feats = tf.tidy(() => split.prefix.reduce<tf.Tensor>((h, l) => l.apply(h) as tf.Tensor, x).reshape([set.n, -1]));
  x.dispose();
  const featData = await feats.data<'float32'>();
  const dim = feats.shape[1]!;
  feats.dispose();
  const suffixOnly: SplitModel = { ...split, prefix: [], inputShape: [dim] };
  const nllAt = async (tau: number): Promise<number> => {
    tf.tidy(() => last.setWeights([tf.div(kernel, tau), tf.div(bias, tau)]));
    const r = await new McDropoutSampler(suffixOnly, { seed }).sample(featData, set.n, t);
    const probs = new Float32Array(set.n * split.classes);
    summarizeBatch(r.samples, t, set.n, split.classes).forEach((s, i) => probs.set(s.probabilities, i * split.classes));
    return negativeLogLikelihood(probs, set.y, split.classes);
  };
  const nllBefore = await nllAt(1);
  let best = { tau: 1, nll: nllBefore };
  const consider = async (tau: number): Promise<void> => {
    if (tau < minTau) return;
    const nll = await nllAt(tau);
    if (nll < best.nll) best = { tau, nll };
  };
  // geometric grid 0.005..2 (MC averaging with outlier exposure can leave the mean very soft: run M1
  // stopped at the old grid's edge, 0.02 − 10%), then ±10% finer
  for (let i = 0; i <= 30; i++) await consider(Number((0.005 * 400 ** (i / 30)).toPrecision(3)));
  await consider(minTau);
  const centre = best.tau;
  for (let i = -5; i <= 5; i++) if (i !== 0) await consider(Number((centre * (1 + i / 50)).toPrecision(3)));
  tf.tidy(() => last.setWeights([tf.div(kernel, best.tau), tf.div(bias, best.tau)]));
  tf.dispose([kernel, bias]);
  return { temperature: best.tau, nllBefore, nllAfter: best.nll, minTemperature: minTau };
}
