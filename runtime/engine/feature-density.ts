import type { FeatureDensity } from '../model/metadata.js';

/** W as a typed array and W μ_c per class, computed once per density. */
const prepared = new WeakMap<FeatureDensity, Prepared>();

interface Prepared {
  w: Float64Array;
  means: Float64Array[];
  v: Float64Array;
  wz: Float64Array;
}

/** out = W v for v = the dim values of `src` from `offset` (copied into `v` first: one element type in the hot loop). */
function whiten(w: Float64Array, dim: number, src: ArrayLike<number>, offset: number, v: Float64Array, out: Float64Array): Float64Array {
  for (let j = 0; j < dim; j++) v[j] = src[offset + j];
  const tail = dim - (dim % 4);
  for (let i = 0; i < dim; i++) {
    const row = i * dim;
    // four partial sums: independent chains the CPU overlaps
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let j = 0; j < tail; j += 4) {
      s0 += w[row + j] * v[j];
      s1 += w[row + j + 1] * v[j + 1];
      s2 += w[row + j + 2] * v[j + 2];
      s3 += w[row + j + 3] * v[j + 3];
    }
    for (let j = tail; j < dim; j++) s0 += w[row + j] * v[j];
    out[i] = s0 + s1 + (s2 + s3);
  }
  return out;
}

function prepare(density: FeatureDensity): Prepared {
  let p = prepared.get(density);
  if (!p) {
    const { dim } = density;
    const w = Float64Array.from(density.whitening);
    const v = new Float64Array(dim);
    p = { w, v, means: density.means.map((mu) => whiten(w, dim, mu, 0, v, new Float64Array(dim))), wz: new Float64Array(dim) };
    prepared.set(density, p);
  }
  return p;
}

/**
 * Squared Mahalanobis distance of `z` (features[offset .. offset+dim)) to its nearest class mean
 * under a shared covariance, divided by dim (≈ 1 for typical training features): ‖W z − W μ_c‖²
 * with W z computed once and the W μ_c once per density. Pure (its scratch buffer is reused, the
 * result depends on the arguments only). The dim × dim product is the engine's largest JS cost per
 * image (#19's profile): W is read from a Float64Array copy made once per density, and each row's
 * dot product runs as four partial sums (the result moves in the last bits of a double only).
 */
export function featureDistance(density: FeatureDensity, features: ArrayLike<number>, offset = 0): number {
  const p = prepare(density);
  return distanceFromWhitened(density, whiten(p.w, density.dim, features, offset, p.v, p.wz));
}

/**
 * `featureDistance` given W z already (wz[offset .. offset+dim)): the engine computes W z for a
 * whole batch as one matmul in the backend (the JS product cost 4.7 ms per 64 images at dim 192),
 * leaving only the nearest whitened class mean here.
 */
export function distanceFromWhitened(density: FeatureDensity, wz: ArrayLike<number>, offset = 0): number {
  const { dim } = density;
  const p = prepare(density);
  let best = Infinity;
  for (const m of p.means) {
    let d = 0;
    for (let i = 0; i < dim && d < best; i++) d += (wz[offset + i] - m[i]) ** 2;
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
