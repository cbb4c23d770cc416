import type { Gray } from './types.js';

// local aliases: hot loops run much faster without a global lookup (notably under jest's vm)
const { max, min, round } = Math;

/** MNIST's median stroke width relative to the digit's longer side (measured: p10 0.11, p90 0.20). */
export const MNIST_STROKE_WIDTH = 0.14;
/** Thinner than this (a fine pen photographed large) gets thickened towards the MNIST median. */
const THIN = 0.08;
/** Below this many pixels on the longer side, widths are too coarse to measure or change. */
const MIN_SIZE = 40;

/**
 * Stroke width relative to the longer side, from area and outline: a stroke of width w and
 * length L covers w·L pixels and has 2·L outline pixels, so w ≈ 2·area / outline.
 */
export function relativeStrokeWidth(img: Gray): number {
  const { width, height, data } = img;
  let area = 0;
  let outline = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (data[i] <= 0.5) continue;
      area++;
      const edge =
        x === 0 || y === 0 || x === width - 1 || y === height - 1 ||
        data[i - 1] <= 0.5 || data[i + 1] <= 0.5 || data[i - width] <= 0.5 || data[i + width] <= 0.5;
      if (edge) outline++;
    }
  }
  if (outline === 0) return 0;
  return (2 * area) / outline / max(width, height);
}

/**
 * Thickens strokes much thinner than MNIST's (grey-level dilation, a max filter over a square),
 * since the model learnt digits written with a thick pen at 20 px. Returns the image unchanged
 * when the strokes are already in MNIST's range or the digit is too small to tell.
 */
export function normaliseStrokeWidth(img: Gray, relWidth: number): Gray {
  const longer = max(img.width, img.height);
  if (longer < MIN_SIZE || relWidth <= 0 || relWidth >= THIN) return img;
  const radius = round(((MNIST_STROKE_WIDTH - relWidth) * longer) / 2);
  if (radius < 1) return img;
  return dilate(padded(img, radius), radius);
}

function padded(img: Gray, pad: number): Gray {
  const width = img.width + 2 * pad;
  const height = img.height + 2 * pad;
  const data = new Float32Array(width * height);
  for (let y = 0; y < img.height; y++) data.set(img.data.subarray(y * img.width, (y + 1) * img.width), (y + pad) * width + pad);
  return { width, height, data };
}

/** Separable max filter over a (2r+1)² square. */
function dilate(img: Gray, r: number): Gray {
  const { width, height, data } = img;
  const rows = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let m = 0;
      for (let k = max(0, x - r); k <= min(width - 1, x + r); k++) m = max(m, data[y * width + k]);
      rows[y * width + x] = m;
    }
  }
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let m = 0;
      for (let k = max(0, y - r); k <= min(height - 1, y + r); k++) m = max(m, rows[k * width + x]);
      out[y * width + x] = m;
    }
  }
  return { width, height, data: out };
}
