import sharp from 'sharp';
import { Sfc32 } from '../engine/prng.js';
import { preprocessImage } from '../preprocess/index.js';
import type { ImageSet } from './datasets.js';

/**
 * Benign shifts of real digits (#16 item 3): each keeps the digit readable to a person but moves
 * it away from how MNIST digits look. Fixed parameters, so figures compare across models. Each
 * shifted image is encoded (PNG, or JPEG for the JPEG kind) and passed through the runtime's own
 * preprocessing, as a client sending it would have it served.
 */
export const SHIFT_KINDS = {
  a: 'low resolution',
  b: 'stroke width',
  c: 'Gaussian blur',
  d: 'JPEG',
  e: 'rotation and shear',
  f: 'salt-and-pepper noise',
} as const;
export type ShiftKind = keyof typeof SHIFT_KINDS;

export interface ShiftVariant {
  name: string;
  kind: ShiftKind;
  description: string;
}

export const SHIFTS: ShiftVariant[] = [
  { name: 'lowRes8', kind: 'a', description: 'box-downsampled to 8×8, bicubic back to 28×28' },
  { name: 'lowRes12', kind: 'a', description: 'box-downsampled to 12×12, bicubic back to 28×28' },
  { name: 'erosion', kind: 'b', description: '1-px grey erosion (3×3 cross)' },
  { name: 'dilation', kind: 'b', description: '1-px grey dilation (3×3 cross)' },
  { name: 'blur', kind: 'c', description: 'Gaussian blur σ = 1.0' },
  { name: 'jpeg15', kind: 'd', description: 'bicubic to 112×112, JPEG quality 15' },
  { name: 'rotation20', kind: 'e', description: 'rotation by +20° and −20° (alternate images), bilinear' },
  { name: 'shear03', kind: 'e', description: 'horizontal shear 0.3 and −0.3 (alternate images), bilinear' },
  { name: 'saltPepper5', kind: 'f', description: '5% of the pixels set to black or white (half each), seeded' },
];

/**
 * The kinds the served confidence mapping is fitted on (at most half of them); the others are
 * held out from fitting and only evaluated. Low resolution — the case of #16's postal scans — and
 * JPEG and salt-and-pepper noise are held out.
 */
export const FIT_SHIFT_KINDS: readonly ShiftKind[] = ['b', 'c', 'e'];

/** Area-average (box) downsampling of a 28×28 image to s×s (exact fractional pixel overlaps). Pure. */
export function boxDown(src: ArrayLike<number>, off: number, s: number): Float32Array {
  const out = new Float32Array(s * s);
  const f = 28 / s;
  const overlap = (a0: number, a1: number, p: number): number => Math.max(0, Math.min(a1, p + 1) - Math.max(a0, p));
  for (let oy = 0; oy < s; oy++)
    for (let ox = 0; ox < s; ox++) {
      const x0 = ox * f;
      const y0 = oy * f;
      let sum = 0;
      for (let y = Math.floor(y0); y < Math.min(28, Math.ceil(y0 + f)); y++) {
        const wy = overlap(y0, y0 + f, y);
        for (let x = Math.floor(x0); x < Math.min(28, Math.ceil(x0 + f)); x++) sum += wy * overlap(x0, x0 + f, x) * src[off + y * 28 + x];
      }
      out[oy * s + ox] = sum / (f * f);
    }
  return out;
}

/**
 * 1-px grey erosion (min) or dilation (max) of a 28×28 image with the 3×3 cross (the pixel and its
 * 4 neighbours); outside counts as 0. The 3×3 square breaks MNIST's 2–3 px strokes apart. Pure.
 */
export function morph3(src: ArrayLike<number>, off: number, dilate: boolean): Float32Array {
  const out = new Float32Array(784);
  for (let y = 0; y < 28; y++)
    for (let x = 0; x < 28; x++) {
      let v = dilate ? 0 : 1;
      for (let dy = -1; dy <= 1; dy++)
        for (let dx = -1; dx <= 1; dx++) {
          if (dx !== 0 && dy !== 0) continue;
          const xx = x + dx;
          const yy = y + dy;
          const p = xx < 0 || yy < 0 || xx > 27 || yy > 27 ? 0 : src[off + yy * 28 + xx];
          v = dilate ? Math.max(v, p) : Math.min(v, p);
        }
      out[y * 28 + x] = v;
    }
  return out;
}

/** Separable Gaussian blur (radius 3σ, zero outside, normalised kernel) of a 28×28 image. Pure. */
export function gaussianBlur(src: ArrayLike<number>, off: number, sigma: number): Float32Array {
  const r = Math.ceil(3 * sigma);
  const k = Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const ks = k.reduce((a, b) => a + b, 0);
  const tmp = new Float32Array(784);
  const out = new Float32Array(784);
  for (let y = 0; y < 28; y++)
    for (let x = 0; x < 28; x++) {
      let s = 0;
      for (let i = -r; i <= r; i++) if (x + i >= 0 && x + i < 28) s += k[i + r] * src[off + y * 28 + x + i];
      tmp[y * 28 + x] = s / ks;
    }
  for (let y = 0; y < 28; y++)
    for (let x = 0; x < 28; x++) {
      let s = 0;
      for (let i = -r; i <= r; i++) if (y + i >= 0 && y + i < 28) s += k[i + r] * tmp[(y + i) * 28 + x];
      out[y * 28 + x] = s / ks;
    }
  return out;
}

/** An affine warp about the image centre (13.5, 13.5), bilinear, zero outside: out(p) = src(A·(p − c) + c). Pure. */
export function affine(src: ArrayLike<number>, off: number, a: [number, number, number, number]): Float32Array {
  const out = new Float32Array(784);
  const c = 13.5;
  const px = (x: number, y: number): number => (x < 0 || y < 0 || x > 27 || y > 27 ? 0 : src[off + y * 28 + x]);
  for (let y = 0; y < 28; y++)
    for (let x = 0; x < 28; x++) {
      const u = a[0] * (x - c) + a[1] * (y - c) + c;
      const v = a[2] * (x - c) + a[3] * (y - c) + c;
      const x0 = Math.floor(u);
      const y0 = Math.floor(v);
      const fx = u - x0;
      const fy = v - y0;
      out[y * 28 + x] = (1 - fy) * ((1 - fx) * px(x0, y0) + fx * px(x0 + 1, y0)) + fy * ((1 - fx) * px(x0, y0 + 1) + fx * px(x0 + 1, y0 + 1));
    }
  return out;
}

const toGrey = (img: ArrayLike<number>, off = 0, n = 784): Buffer => {
  const b = Buffer.alloc(n);
  for (let k = 0; k < n; k++) b[k] = Math.round(255 * Math.min(1, Math.max(0, img[off + k])));
  return b;
};

const png = (grey: Buffer, size: number): Promise<Buffer> => sharp(grey, { raw: { width: size, height: size, channels: 1 } }).png().toBuffer();

/** The encoded image (what a client would send) of image `i` of `set` under `shift`. Deterministic for (set, i). */
export async function shiftedImage(shift: ShiftVariant, set: ImageSet, i: number): Promise<Buffer> {
  const off = i * 784;
  const sign = i % 2 === 0 ? 1 : -1;
  switch (shift.name) {
    case 'lowRes8':
    case 'lowRes12': {
      const s = shift.name === 'lowRes8' ? 8 : 12;
      const small = toGrey(boxDown(set.x, off, s), 0, s * s);
      return sharp(small, { raw: { width: s, height: s, channels: 1 } }).resize(28, 28, { kernel: 'cubic' }).png().toBuffer();
    }
    case 'erosion':
    case 'dilation':
      return png(toGrey(morph3(set.x, off, shift.name === 'dilation')), 28);
    case 'blur':
      return png(toGrey(gaussianBlur(set.x, off, 1)), 28);
    case 'jpeg15':
      return sharp(toGrey(set.x, off), { raw: { width: 28, height: 28, channels: 1 } }).resize(112, 112, { kernel: 'cubic' }).jpeg({ quality: 15 }).toBuffer();
    case 'rotation20': {
      // inverse map of a rotation by sign·20°
      const t = (sign * 20 * Math.PI) / 180;
      return png(toGrey(affine(set.x, off, [Math.cos(t), Math.sin(t), -Math.sin(t), Math.cos(t)])), 28);
    }
    case 'shear03':
      return png(toGrey(affine(set.x, off, [1, -0.3 * sign, 0, 1])), 28);
    case 'saltPepper5': {
      const rng = new Sfc32(0x5a17 + i);
      const img = Float32Array.from(set.x.subarray(off, off + 784));
      for (let k = 0; k < 784; k++) {
        const r = rng.next();
        if (r < 0.025) img[k] = 0;
        else if (r < 0.05) img[k] = 1;
      }
      return png(toGrey(img), 28);
    }
    default:
      throw new Error(`unknown shift ${shift.name}`);
  }
}

/** Every image of `set` under `shift`, through the runtime's preprocessing (labels kept). */
export async function shiftedSet(shift: ShiftVariant, set: ImageSet): Promise<ImageSet> {
  const x = new Float32Array(set.n * 784);
  for (let i = 0; i < set.n; i++) {
    const { pixels } = await preprocessImage(await shiftedImage(shift, set, i), { maxInputPixels: 40_000_000 });
    x.set(pixels, i * 784);
  }
  return { x, y: set.y, n: set.n };
}
