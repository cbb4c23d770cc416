import sharp from 'sharp';
import type { ImageSet } from './datasets.js';

/** Letters that do not read as digits (no O/o/I/l/i/S/s/Z/z/B/b/G/g/q/D/T/J/L/A/U/u/t/y/Y). */
export const LETTERS = 'CEFHKMNPRVWXacdefhkmnprvwx';
const FONTS = ['DejaVu Sans', 'DejaVu Serif', 'Liberation Sans', 'Liberation Serif', 'DejaVu Sans Mono'];
const WEIGHTS = ['normal', 'bold'];

/**
 * Places a grey raster (bright on dark) in MNIST form: crop to the ink, scale the longer side to
 * 20 px, centre by centre of mass in 28×28. Returns undefined for a blank raster. Pure.
 */
export function toMnistForm(src: Uint8Array, w: number, h: number): Float32Array | undefined {
  let x0 = w;
  let y0 = h;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      if (src[y * w + x] > 30) {
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
  if (x1 < 0) return undefined;
  const bw = x1 - x0 + 1;
  const bh = y1 - y0 + 1;
  const s = 20 / Math.max(bw, bh);
  const ow = Math.max(1, Math.round(bw * s));
  const oh = Math.max(1, Math.round(bh * s));
  // area-average downscale of the box into ow × oh
  const box = new Float32Array(ow * oh);
  for (let y = 0; y < oh; y++)
    for (let x = 0; x < ow; x++) {
      let sum = 0;
      let cnt = 0;
      for (let sy = Math.floor(y / s); sy < Math.min(bh, Math.ceil((y + 1) / s)); sy++)
        for (let sx = Math.floor(x / s); sx < Math.min(bw, Math.ceil((x + 1) / s)); sx++) {
          sum += src[(y0 + sy) * w + x0 + sx];
          cnt++;
        }
      box[y * ow + x] = cnt ? sum / cnt / 255 : 0;
    }
  let m = 0;
  let mx = 0;
  let my = 0;
  for (let y = 0; y < oh; y++)
    for (let x = 0; x < ow; x++) {
      m += box[y * ow + x];
      mx += x * box[y * ow + x];
      my += y * box[y * ow + x];
    }
  const ox = Math.round(14 - (m ? mx / m : ow / 2) - 0.5);
  const oy = Math.round(14 - (m ? my / m : oh / 2) - 0.5);
  const out = new Float32Array(784);
  for (let y = 0; y < oh; y++)
    for (let x = 0; x < ow; x++) {
      const tx = x + ox;
      const ty = y + oy;
      if (tx >= 0 && ty >= 0 && tx < 28 && ty < 28) out[ty * 28 + tx] = box[y * ow + x];
    }
  return out;
}

/**
 * Printed letters rendered with the system's fonts (sharp/librsvg), in MNIST form: a non-digit set
 * nothing was trained or calibrated on. Undefined when no font renders (e.g. a bare container).
 */
export async function renderLetters(): Promise<ImageSet | undefined> {
  const images: Float32Array[] = [];
  for (const font of FONTS)
    for (const weight of WEIGHTS)
      for (const ch of LETTERS) {
        const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96"><rect width="96" height="96" fill="black"/><text x="48" y="70" font-family="${font}" font-weight="${weight}" font-size="64" fill="white" text-anchor="middle">${ch}</text></svg>`;
        try {
          const { data, info } = await sharp(Buffer.from(svg)).greyscale().raw().toBuffer({ resolveWithObject: true });
          const img = toMnistForm(new Uint8Array(data.buffer, data.byteOffset, data.length), info.width, info.height);
          if (img) images.push(img);
        } catch {
          return undefined;
        }
      }
  if (images.length === 0) return undefined;
  const x = new Float32Array(images.length * 784);
  images.forEach((img, i) => x.set(img, i * 784));
  return { x, y: new Int32Array(images.length).fill(-1), n: images.length };
}
