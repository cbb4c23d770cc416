import { featureDistance } from '../../../../runtime/engine/feature-density.js';
import { cholesky, fitFeatureDensity, invertLower } from '../../../../runtime/train/density-fit.js';

describe('cholesky and invertLower', () => {
  it('factor a positive-definite matrix and invert the factor', () => {
    const a = new Float64Array([4, 2, 0.4, 2, 5, 1, 0.4, 1, 3]);
    const l = cholesky(a, 3);
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) {
        let s = 0;
        for (let k = 0; k < 3; k++) s += l[i * 3 + k] * l[j * 3 + k];
        expect(s).toBeCloseTo(a[i * 3 + j], 12);
      }
    const inv = invertLower(l, 3);
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) {
        let s = 0;
        for (let k = 0; k < 3; k++) s += inv[i * 3 + k] * l[k * 3 + j];
        expect(s).toBeCloseTo(i === j ? 1 : 0, 12);
      }
  });

  it('refuses a matrix that is not positive definite', () => {
    expect(() => cholesky(new Float64Array([1, 2, 2, 1]), 2)).toThrow(/positive definite/);
  });
});

describe('fitFeatureDensity', () => {
  it('fits class means and the pooled covariance, so distance is the Mahalanobis distance', () => {
    // class 0 around (0,0), class 1 around (10,0); within-class spread ±1 in x and ±2 in y
    const pts: number[] = [];
    const labels: number[] = [];
    for (const [c, cx] of [[0, 0], [1, 10]] as const)
      for (const [dx, dy] of [[1, 0], [-1, 0], [0, 2], [0, -2]]) {
        pts.push(cx + dx, dy);
        labels.push(c);
      }
    const d = fitFeatureDensity(new Float32Array(pts), labels, 2, 2, 'test', 0);
    expect(d.means).toEqual([[0, 0], [10, 0]]);
    // pooled covariance diag(0.5, 2): the point (1, 0) is at (1/0.5)/2 = 1; (0, 2) at (4/2)/2 = 1
    expect(featureDistance(d, [1, 0])).toBeCloseTo(1, 5);
    expect(featureDistance(d, [10, 2])).toBeCloseTo(1, 5);
    expect(featureDistance(d, [5, 0])).toBeCloseTo(25, 4);
  });
});

describe('featureDistance', () => {
  it('equals min over classes of (z − μ)ᵀ Σ⁻¹ (z − μ) / dim for any dim (partial sums, tail) and offset', () => {
    // a seeded generator: the densities are fitted from random features of 3 classes
    let s = 7;
    const rnd = (): number => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
    for (const dim of [1, 5, 8, 13]) {
      const n = 40 * dim;
      const feats = Float32Array.from({ length: n * dim }, rnd);
      const labels = Array.from({ length: n }, (_, i) => i % 3);
      const d = fitFeatureDensity(feats, labels, dim, 3, 'test');
      // W is the whitening: Σ⁻¹ = Wᵀ W, so the reference computes the quadratic form through Σ⁻¹
      const inv = new Float64Array(dim * dim);
      for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) for (let k = 0; k < dim; k++) inv[i * dim + j] += d.whitening[k * dim + i] * d.whitening[k * dim + j];
      const batch = Float32Array.from({ length: 5 * dim }, () => 3 * rnd());
      for (let b = 0; b < 5; b++) {
        const ref = Math.min(
          ...d.means.map((mu) => {
            let q = 0;
            for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) q += (batch[b * dim + i] - mu[i]) * inv[i * dim + j] * (batch[b * dim + j] - mu[j]);
            return q / dim;
          }),
        );
        expect(featureDistance(d, batch, b * dim)).toBeCloseTo(ref, 8);
      }
    }
  });
});
