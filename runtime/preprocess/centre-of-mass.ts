import type { Gray } from './types.js';

// local aliases: hot loops run much faster without a global lookup (notably under jest's vm)
const { min, round } = Math;

export const FIELD = 28;
/**
 * Where MNIST's centres of mass sit, in pixel-index units: measured over the mnist package's
 * digits, 14.01 across and 14.00 down.
 */
const TARGET = 14;

/**
 * Places the digit in a FIELD × FIELD image, shifted by whole pixels so its centre of mass lands
 * where MNIST's do (whole pixels keep the strokes as sharp as the resampling left them).
 */
export function placeByCentreOfMass(img: Gray): Float32Array {
  const { width, height, data } = img;
  let mass = 0;
  let sx = 0;
  let sy = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = data[y * width + x];
      mass += v;
      sx += v * x;
      sy += v * y;
    }
  }
  const out = new Float32Array(FIELD * FIELD);
  if (mass <= 0) return out;
  const ox = round(TARGET - sx / mass);
  const oy = round(TARGET - sy / mass);
  for (let y = 0; y < height; y++) {
    const Y = y + oy;
    if (Y < 0 || Y >= FIELD) continue;
    for (let x = 0; x < width; x++) {
      const X = x + ox;
      if (X >= 0 && X < FIELD) out[Y * FIELD + X] = data[y * width + x];
    }
  }
  return out;
}

/** Scales so the brightest pixel is 1 (MNIST's strokes reach full white). */
export function stretchToUnit(pixels: Float32Array): Float32Array {
  let max = 0;
  for (const v of pixels) if (v > max) max = v;
  if (max <= 0) return pixels;
  for (let i = 0; i < pixels.length; i++) pixels[i] = min(1, pixels[i] / max);
  return pixels;
}
