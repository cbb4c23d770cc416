import { Sfc32 } from '../../../../runtime/engine/prng.js';
import { augmentImage } from '../../../../runtime/train/augment.js';
import { makeOutlier } from '../../../../runtime/train/outliers.js';

const digitLike = (): Float32Array => {
  const x = new Float32Array(784);
  for (let y = 6; y < 22; y++) for (let c = 12; c < 16; c++) x[y * 28 + c] = 1;
  return x;
};

describe('augmentImage', () => {
  it('is the identity with every range at zero', () => {
    const src = digitLike();
    const dst = new Float32Array(784);
    augmentImage(src, 0, dst, 0, new Sfc32(1), { maxRotationDeg: 0, maxScale: 0, maxShiftPx: 0, maxShear: 0, thicknessProb: 0 });
    for (let i = 0; i < 784; i++) expect(dst[i]).toBeCloseTo(src[i], 5);
  });

  it('keeps values in 0..1, roughly keeps the ink, and is reproducible for a seed', () => {
    const src = digitLike();
    const ink = src.reduce((a, b) => a + b, 0);
    const o = { maxRotationDeg: 12, maxScale: 0.12, maxShiftPx: 2, maxShear: 0.15, thicknessProb: 0.15 };
    const a = new Float32Array(784 * 20);
    const b = new Float32Array(784 * 20);
    const ra = new Sfc32(3);
    const rb = new Sfc32(3);
    for (let k = 0; k < 20; k++) {
      augmentImage(src, 0, a, k * 784, ra, o);
      augmentImage(src, 0, b, k * 784, rb, o);
      const img = a.subarray(k * 784, (k + 1) * 784);
      expect(Math.min(...img)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...img)).toBeLessThanOrEqual(1 + 1e-6);
      const s = img.reduce((p, q) => p + q, 0);
      expect(s).toBeGreaterThan(0.4 * ink);
      expect(s).toBeLessThan(2.2 * ink);
    }
    expect(Array.from(a)).toEqual(Array.from(b));
  });
});

describe('makeOutlier', () => {
  it('writes only its own 784 values, in 0..1, and produces varied images', () => {
    const buf = new Float32Array(784 * 3).fill(0.5);
    const rng = new Sfc32(4);
    makeOutlier(buf, 784, rng);
    expect(buf[783]).toBe(0.5);
    expect(buf[2 * 784]).toBe(0.5);
    const sums = new Set<number>();
    for (let k = 0; k < 30; k++) {
      const img = new Float32Array(784);
      makeOutlier(img, 0, rng);
      for (const v of img) expect(v >= 0 && v <= 1).toBe(true);
      sums.add(Math.round(img.reduce((a, b) => a + b, 0)));
    }
    expect(sums.size).toBeGreaterThan(10);
  });

  it('an elastic warp moves the ink smoothly, keeps values in 0..1 and is reproducible for a seed', () => {
    const src = digitLike();
    const still = { maxRotationDeg: 0, maxScale: 0, maxShiftPx: 0, maxShear: 0, thicknessProb: 0 };
    const a = new Float32Array(784);
    const b = new Float32Array(784);
    augmentImage(src, 0, a, 0, new Sfc32(5), { ...still, elasticPx: 2 });
    augmentImage(src, 0, b, 0, new Sfc32(5), { ...still, elasticPx: 2 });
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Math.min(...a)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...a)).toBeLessThanOrEqual(1 + 1e-6);
    const moved = a.reduce((n, v, i) => n + (Math.abs(v - src[i]) > 0.05 ? 1 : 0), 0);
    expect(moved).toBeGreaterThan(0);
    const ink = (x: Float32Array): number => x.reduce((p, q) => p + q, 0);
    expect(ink(a)).toBeGreaterThan(0.6 * ink(src));
    expect(ink(a)).toBeLessThan(1.6 * ink(src));
  });
});
