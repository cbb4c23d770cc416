/** Uncertainty figures of one image, computed from its T Monte-Carlo softmax samples (SPEC §3). */
export interface SampleSummary {
  digit: number;
  probability: number;
  /** Mean of the T softmax samples. */
  probabilities: number[];
  /** Entropy of the mean distribution, in nats (total uncertainty). */
  predictiveEntropy: number;
  /** Mean entropy of the individual samples, in nats (aleatoric). */
  expectedEntropy: number;
  /** predictiveEntropy − expectedEntropy, clamped at ≥ 0 (epistemic). */
  mutualInformation: number;
  /** 1 − share of samples whose arg-max is `digit`. */
  variationRatio: number;
  /** Population standard deviation of the predicted class's probability across samples. */
  stdDev: number;
}

/** Entropy in nats of a distribution stored at `p[offset .. offset + c)`; 0·log 0 counts as 0. */
export function entropy(p: ArrayLike<number>, offset = 0, c = p.length - offset): number {
  let h = 0;
  for (let k = 0; k < c; k++) {
    const v = p[offset + k];
    if (v > 0) h -= v * Math.log(v);
  }
  return h;
}

function argmax(p: ArrayLike<number>, offset: number, c: number): number {
  let best = 0;
  for (let k = 1; k < c; k++) if (p[offset + k] > p[offset + best]) best = k;
  return best;
}

/**
 * Summarises the samples of image `n` in a [T, N, C] row-major block (the layout of T stacked
 * batch outputs). Pure and allocation-light: called once per image per request.
 */
export function summarizeImage(samples: ArrayLike<number>, t: number, n: number, c: number, image: number): SampleSummary {
  if (t < 1 || c < 1 || image < 0 || image >= n) throw new RangeError(`bad sample block: T=${t} N=${n} C=${c} image=${image}`);
  if (samples.length < t * n * c) throw new RangeError(`sample block has ${samples.length} values, expected ${t * n * c}`);
  const mean = new Array<number>(c).fill(0);
  let expectedEntropy = 0;
  for (let s = 0; s < t; s++) {
    const off = (s * n + image) * c;
    for (let k = 0; k < c; k++) mean[k] += samples[off + k];
    expectedEntropy += entropy(samples, off, c);
  }
  for (let k = 0; k < c; k++) mean[k] /= t;
  expectedEntropy /= t;
  const digit = argmax(mean, 0, c);
  const probability = mean[digit];
  let votes = 0;
  let sq = 0;
  for (let s = 0; s < t; s++) {
    const off = (s * n + image) * c;
    if (argmax(samples, off, c) === digit) votes++;
    const d = samples[off + digit] - probability;
    sq += d * d;
  }
  const predictiveEntropy = entropy(mean);
  return {
    digit,
    probability,
    probabilities: mean,
    predictiveEntropy,
    expectedEntropy,
    mutualInformation: Math.max(0, predictiveEntropy - expectedEntropy),
    variationRatio: 1 - votes / t,
    stdDev: Math.sqrt(sq / t),
  };
}

/** Summarises every image of a [T, N, C] sample block, in image order. */
export function summarizeBatch(samples: ArrayLike<number>, t: number, n: number, c: number): SampleSummary[] {
  const out: SampleSummary[] = [];
  for (let i = 0; i < n; i++) out.push(summarizeImage(samples, t, n, c, i));
  return out;
}
