import type { Sfc32 } from '../engine/prng.js';
import { sampleControlGrid } from './control-grid.js';

export interface AugmentOptions {
  maxRotationDeg: number;
  /** Scale range is [1 − maxScale, 1 + maxScale]. */
  maxScale: number;
  maxShiftPx: number;
  maxShear: number;
  /** Probability of thickening (3×3 grey dilation) and, separately, of thinning (erosion). */
  thicknessProb: number;
  /**
   * Largest displacement (px) of a smooth random (elastic) warp, from a 4×4 grid of random
   * offsets interpolated bilinearly over the image; 0 or unset: none.
   */
  elasticPx?: number;
}

export const DEFAULT_AUGMENT: AugmentOptions = { maxRotationDeg: 12, maxScale: 0.12, maxShiftPx: 2, maxShear: 0.15, thicknessProb: 0.15 };

/**
 * Writes a randomly transformed copy of the 28×28 image src[so..so+784) to dst[do..do+784):
 * rotation, scale, shear and shift about the centre with bilinear sampling, then maybe a
 * stroke-thickness change — the variation real digits keep after MNIST-style preprocessing.
 */
export function augmentImage(src: ArrayLike<number>, so: number, dst: Float32Array, dOff: number, rng: Sfc32, o: AugmentOptions): void {
  const a = ((rng.next() * 2 - 1) * o.maxRotationDeg * Math.PI) / 180;
  const s = 1 + (rng.next() * 2 - 1) * o.maxScale;
  const sh = (rng.next() * 2 - 1) * o.maxShear;
  const tx = (rng.next() * 2 - 1) * o.maxShiftPx;
  const ty = (rng.next() * 2 - 1) * o.maxShiftPx;
  // inverse map: output (x, y) -> source (u, v)
  const cos = Math.cos(a) / s;
  const sin = Math.sin(a) / s;
  const c = 13.5;
  const el = o.elasticPx ?? 0;
  // elastic field: offsets on a 4×4 grid of control points spanning the image
  const gx = new Float32Array(16);
  const gy = new Float32Array(16);
  if (el > 0) for (let i = 0; i < 16; i++) {
    gx[i] = (rng.next() * 2 - 1) * el;
    gy[i] = (rng.next() * 2 - 1) * el;
  }
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      let xr = x - c - tx;
      let yr = y - c - ty;
      if (el > 0) {
        xr += sampleControlGrid(gx, 4, x, y);
        yr += sampleControlGrid(gy, 4, x, y);
      }
      const u = cos * xr + sin * yr + sh * yr + c;
      const v = -sin * xr + cos * yr + c;
      const x0 = Math.floor(u);
      const y0 = Math.floor(v);
      const fx = u - x0;
      const fy = v - y0;
      const px = (xx: number, yy: number): number => (xx < 0 || yy < 0 || xx > 27 || yy > 27 ? 0 : src[so + yy * 28 + xx]);
      dst[dOff + y * 28 + x] =
        (1 - fy) * ((1 - fx) * px(x0, y0) + fx * px(x0 + 1, y0)) + fy * ((1 - fx) * px(x0, y0 + 1) + fx * px(x0 + 1, y0 + 1));
    }
  }
  const r = rng.next();
  if (r < o.thicknessProb) morph(dst, dOff, Math.max);
  else if (r < 2 * o.thicknessProb) morph(dst, dOff, Math.min, 0.5);
}

/** 3×3 cross-shaped grey dilation (max) or erosion (min), in place, blended with the original by `amount`. */
function morph(img: Float32Array, off: number, f: (...v: number[]) => number, amount = 1): void {
  const src = img.slice(off, off + 784);
  const at = (x: number, y: number): number => (x < 0 || y < 0 || x > 27 || y > 27 ? 0 : src[y * 28 + x]);
  for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) img[off + y * 28 + x] = (1 - amount) * at(x, y) + amount * f(at(x, y), at(x - 1, y), at(x + 1, y), at(x, y - 1), at(x, y + 1));
}
