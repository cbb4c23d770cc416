import type { FeatureDensity } from '../model/metadata.js';

/**
 * Fits the class-conditional Gaussian with shared covariance (as in the Mahalanobis OOD detector
 * of Lee et al. 2018): per-class means and the pooled covariance Σ (+ ridge·mean variance·I), then
 * W = L⁻¹ for the Cholesky factor Σ = L Lᵀ, so that ‖W (z − μ)‖² = (z − μ)ᵀ Σ⁻¹ (z − μ). Pure.
 */
export function fitFeatureDensity(features: Float32Array, labels: ArrayLike<number>, dim: number, classes: number, layer: string, ridge = 1e-3): FeatureDensity {
  const n = labels.length;
  const means = Array.from({ length: classes }, () => new Float64Array(dim));
  const counts = new Float64Array(classes);
  for (let i = 0; i < n; i++) {
    const c = labels[i];
    counts[c]++;
    for (let j = 0; j < dim; j++) means[c][j] += features[i * dim + j];
  }
  means.forEach((m, c) => m.forEach((_, j) => (m[j] /= Math.max(1, counts[c]))));
  const cov = new Float64Array(dim * dim);
  const d = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    const mu = means[labels[i]];
    for (let j = 0; j < dim; j++) d[j] = features[i * dim + j] - mu[j];
    for (let a = 0; a < dim; a++) {
      const da = d[a];
      if (da === 0) continue;
      for (let b = 0; b <= a; b++) cov[a * dim + b] += da * d[b];
    }
  }
  let trace = 0;
  for (let a = 0; a < dim; a++) {
    for (let b = 0; b <= a; b++) {
      cov[a * dim + b] /= n;
      cov[b * dim + a] = cov[a * dim + b];
    }
    trace += cov[a * dim + a];
  }
  const lambda = ridge * (trace / dim) + 1e-9;
  for (let a = 0; a < dim; a++) cov[a * dim + a] += lambda;
  const l = cholesky(cov, dim);
  const w = invertLower(l, dim);
  return {
    method: 'mahalanobis-shared-covariance',
    layer,
    dim,
    means: means.map((m) => Array.from(m, (v) => Number(v.toPrecision(7)))),
    whitening: Array.from(w, (v) => Number(v.toPrecision(7))),
  };
}

/** Lower-triangular L with L Lᵀ = A (row-major dim × dim). */
export function cholesky(a: Float64Array, dim: number): Float64Array {
  const l = new Float64Array(dim * dim);
  for (let i = 0; i < dim; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * dim + j];
      for (let k = 0; k < j; k++) s -= l[i * dim + k] * l[j * dim + k];
      if (i === j) {
        if (s <= 0) throw new Error('covariance is not positive definite');
        l[i * dim + i] = Math.sqrt(s);
      } else l[i * dim + j] = s / l[j * dim + j];
    }
  }
  return l;
}

/** Inverse of a lower-triangular matrix (row-major), itself lower-triangular. */
export function invertLower(l: Float64Array, dim: number): Float64Array {
  const inv = new Float64Array(dim * dim);
  for (let i = 0; i < dim; i++) {
    inv[i * dim + i] = 1 / l[i * dim + i];
    for (let j = 0; j < i; j++) {
      let s = 0;
      for (let k = j; k < i; k++) s += l[i * dim + k] * inv[k * dim + j];
      inv[i * dim + j] = -s / l[i * dim + i];
    }
  }
  return inv;
}
