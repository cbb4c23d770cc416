import type { FeatureDensity } from '../model/metadata.js';

/** W μ_c per class, computed once per density. */
const whitenedMeans = new WeakMap<FeatureDensity, Float64Array[]>();

function whiten(w: ArrayLike<number>, dim: number, v: ArrayLike<number>, offset: number, out: Float64Array): Float64Array {
  for (let i = 0; i < dim; i++) {
    let s = 0;
    const row = i * dim;
    for (let j = 0; j < dim; j++) s += w[row + j] * v[offset + j];
    out[i] = s;
  }
  return out;
}

/**
 * Squared Mahalanobis distance of `z` (features[offset .. offset+dim)) to its nearest class mean
 * under a shared covariance, divided by dim (≈ 1 for typical training features): ‖W z − W μ_c‖²
 * with W z computed once and the W μ_c once per density. Pure.
 */
export function featureDistance(density: FeatureDensity, features: ArrayLike<number>, offset = 0): number {
  const { dim, means, whitening } = density;
  let wm = whitenedMeans.get(density);
  if (!wm) {
    wm = means.map((mu) => whiten(whitening, dim, mu, 0, new Float64Array(dim)));
    whitenedMeans.set(density, wm);
  }
  const wz = whiten(whitening, dim, features, offset, new Float64Array(dim));
  let best = Infinity;
  for (const m of wm) {
    let d = 0;
    for (let i = 0; i < dim && d < best; i++) d += (wz[i] - m[i]) ** 2;
    if (d < best) best = d;
  }
  return best / dim;
}

/** Share of the image's pixels brighter than 0.25 (ink, on the MNIST bright-on-dark scale). */
export function inkFraction(pixels: ArrayLike<number>, offset: number, size: number): number {
  let ink = 0;
  for (let i = 0; i < size; i++) if (pixels[offset + i] > 0.25) ink++;
  return ink / size;
}
