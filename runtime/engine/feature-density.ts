import type { FeatureDensity } from '../model/metadata.js';

/**
 * Squared Mahalanobis distance of `z` (features[offset .. offset+dim)) to its nearest class mean
 * under a shared covariance, divided by dim (≈ 1 for typical training features). Pure.
 */
export function featureDistance(density: FeatureDensity, features: ArrayLike<number>, offset = 0): number {
  const { dim, means, whitening } = density;
  const diff = new Float64Array(dim);
  let best = Infinity;
  for (const mu of means) {
    for (let j = 0; j < dim; j++) diff[j] = features[offset + j] - mu[j];
    let d = 0;
    for (let i = 0; i < dim; i++) {
      let w = 0;
      const row = i * dim;
      for (let j = 0; j < dim; j++) w += whitening[row + j] * diff[j];
      d += w * w;
      if (d >= best) break;
    }
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
