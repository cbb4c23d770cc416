import type { Sfc32 } from '../engine/prng.js';
import { sampleControlGrid } from './control-grid.js';

/**
 * Synthetic non-digit 28×28 images for outlier exposure: noise, blobs, filled shapes, scribbles
 * of many strokes, stripes and textures. None is a Fashion-MNIST image, so Fashion-MNIST stays a
 * non-digit set the network never trained on.
 */
export const OUTLIER_KINDS = ['noise', 'smoothNoise', 'blob', 'rect', 'scribble', 'stripes', 'fill'] as const;

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

function line(img: Float32Array, off: number, x0: number, y0: number, x1: number, y1: number, w: number): void {
  const steps = Math.ceil(Math.hypot(x1 - x0, y1 - y0) * 2) + 1;
  for (let i = 0; i <= steps; i++) {
    const cx = x0 + ((x1 - x0) * i) / steps;
    const cy = y0 + ((y1 - y0) * i) / steps;
    for (let y = Math.max(0, Math.floor(cy - w)); y <= Math.min(27, Math.ceil(cy + w)); y++)
      for (let x = Math.max(0, Math.floor(cx - w)); x <= Math.min(27, Math.ceil(cx + w)); x++) {
        const d = Math.hypot(x - cx, y - cy);
        const v = clamp01(w + 0.5 - d);
        if (v > img[off + y * 28 + x]) img[off + y * 28 + x] = v;
      }
  }
}

/** Writes one synthetic non-digit into dst[off .. off+784). */
export function makeOutlier(dst: Float32Array, off: number, rng: Sfc32): void {
  const kind = OUTLIER_KINDS[Math.floor(rng.next() * OUTLIER_KINDS.length)];
  const img = dst;
  img.fill(0, off, off + 784);
  const r = (): number => rng.next();
  switch (kind) {
    case 'noise': {
      const density = 0.1 + r() * 0.8;
      for (let i = 0; i < 784; i++) img[off + i] = r() < density ? r() : 0;
      break;
    }
    case 'smoothNoise': {
      const g = new Float32Array(49);
      for (let i = 0; i < 49; i++) g[i] = r();
      const cut = 0.3 + r() * 0.4;
      for (let y = 0; y < 28; y++)
        for (let x = 0; x < 28; x++) {
          const val = sampleControlGrid(g, 7, x, y);
          img[off + y * 28 + x] = val > cut ? clamp01((val - cut) * 3) : 0;
        }
      break;
    }
    case 'blob': {
      const k = 1 + Math.floor(r() * 3);
      for (let b = 0; b < k; b++) {
        const cx = 6 + r() * 16;
        const cy = 6 + r() * 16;
        const rx = 2 + r() * 8;
        const ry = 2 + r() * 8;
        for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) if (((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1) img[off + y * 28 + x] = 0.6 + 0.4 * r();
      }
      break;
    }
    case 'rect': {
      const x0 = Math.floor(r() * 12);
      const y0 = Math.floor(r() * 12);
      const x1 = 14 + Math.floor(r() * 14);
      const y1 = 14 + Math.floor(r() * 14);
      const hollow = r() < 0.5;
      for (let y = y0; y < y1; y++)
        for (let x = x0; x < x1; x++) if (!hollow || x < x0 + 2 || x >= x1 - 2 || y < y0 + 2 || y >= y1 - 2) img[off + y * 28 + x] = 1;
      break;
    }
    case 'scribble': {
      const strokes = 4 + Math.floor(r() * 8);
      let x = 4 + r() * 20;
      let y = 4 + r() * 20;
      for (let s = 0; s < strokes; s++) {
        const nx = 3 + r() * 22;
        const ny = 3 + r() * 22;
        line(img, off, x, y, nx, ny, 0.8 + r() * 1.2);
        x = r() < 0.5 ? nx : 3 + r() * 22;
        y = r() < 0.5 ? ny : 3 + r() * 22;
      }
      break;
    }
    case 'stripes': {
      const period = 3 + r() * 6;
      const a = r() * Math.PI;
      const ca = Math.cos(a);
      const sa = Math.sin(a);
      for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) img[off + y * 28 + x] = Math.sin(((x * ca + y * sa) * 2 * Math.PI) / period) > 0.2 ? 1 : 0;
      break;
    }
    case 'fill': {
      const level = 0.3 + r() * 0.7;
      const margin = Math.floor(r() * 6);
      for (let y = margin; y < 28 - margin; y++) for (let x = margin; x < 28 - margin; x++) img[off + y * 28 + x] = level * (0.8 + 0.2 * r());
      break;
    }
  }
}
