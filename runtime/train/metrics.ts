/** Evaluation figures. All pure functions over plain arrays. */

/** Expected calibration error with `bins` equal-width bins: Σ_b (n_b / n) · |accuracy_b − mean confidence_b|. */
export function expectedCalibrationError(confidence: ArrayLike<number>, correct: ArrayLike<boolean>, bins = 15): number {
  const n = confidence.length;
  if (n === 0) return 0;
  const count = new Float64Array(bins);
  const conf = new Float64Array(bins);
  const acc = new Float64Array(bins);
  for (let i = 0; i < n; i++) {
    const b = Math.min(bins - 1, Math.max(0, Math.floor(confidence[i] * bins)));
    count[b]++;
    conf[b] += confidence[i];
    if (correct[i]) acc[b]++;
  }
  let e = 0;
  for (let b = 0; b < bins; b++) if (count[b] > 0) e += Math.abs(acc[b] - conf[b]);
  return e / n;
}

/**
 * Area under the ROC curve for `positive` scores ranked above `negative` scores (ties count ½):
 * the probability that a random positive outscores a random negative.
 */
export function auroc(positive: ArrayLike<number>, negative: ArrayLike<number>): number {
  const np = positive.length;
  const nn = negative.length;
  if (np === 0 || nn === 0) throw new RangeError('AUROC needs positives and negatives');
  const all: [number, number][] = [];
  for (let i = 0; i < np; i++) all.push([positive[i], 1]);
  for (let i = 0; i < nn; i++) all.push([negative[i], 0]);
  all.sort((a, b) => a[0] - b[0]);
  let rankSum = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j < all.length && all[j][0] === all[i][0]) j++;
    const avgRank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) if (all[k][1] === 1) rankSum += avgRank;
    i = j;
  }
  return (rankSum - (np * (np + 1)) / 2) / (np * nn);
}

/** Mean negative log-likelihood of the true labels under `probs` (row-major n × c), floored at 1e-12. */
export function negativeLogLikelihood(probs: ArrayLike<number>, labels: ArrayLike<number>, c: number): number {
  let s = 0;
  for (let i = 0; i < labels.length; i++) s -= Math.log(Math.max(1e-12, probs[i * c + labels[i]]));
  return s / labels.length;
}

/** Fraction of `predicted[i] === labels[i]`. */
export function accuracy(predicted: ArrayLike<number>, labels: ArrayLike<number>): number {
  let k = 0;
  for (let i = 0; i < labels.length; i++) if (predicted[i] === labels[i]) k++;
  return k / labels.length;
}
