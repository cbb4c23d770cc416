import type { Gray } from './types.js';

// local aliases: hot loops run much faster without a global lookup (notably under jest's vm)
const { ceil, floor, max, min, round } = Math;

interface Tap {
  index: number;
  weight: number;
}

/**
 * 1-D resampling weights: area averaging when shrinking (each output pixel is the mean of the
 * input it covers, fractions included: anti-aliased, as MNIST's digits are), linear interpolation
 * when enlarging.
 */
function taps(inSize: number, outSize: number): Tap[][] {
  const scale = inSize / outSize;
  const all: Tap[][] = [];
  for (let o = 0; o < outSize; o++) {
    const row: Tap[] = [];
    if (scale >= 1) {
      const start = o * scale;
      const end = (o + 1) * scale;
      for (let i = floor(start); i < min(inSize, ceil(end)); i++) {
        const overlap = min(end, i + 1) - max(start, i);
        if (overlap > 0) row.push({ index: i, weight: overlap / scale });
      }
    } else {
      const centre = min(inSize - 1, max(0, (o + 0.5) * scale - 0.5));
      const i = floor(centre);
      const f = centre - i;
      row.push({ index: i, weight: 1 - f });
      if (f > 0 && i + 1 < inSize) row.push({ index: i + 1, weight: f });
    }
    all.push(row);
  }
  return all;
}

/** Resamples to exactly outWidth × outHeight (separable: rows first, then columns). */
export function resample(img: Gray, outWidth: number, outHeight: number): Gray {
  const { width, height, data } = img;
  const xTaps = taps(width, outWidth);
  const yTaps = taps(height, outHeight);
  const rows = new Float32Array(outWidth * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < outWidth; x++) {
      let v = 0;
      for (const t of xTaps[x]) v += t.weight * data[y * width + t.index];
      rows[y * outWidth + x] = v;
    }
  }
  const out = new Float32Array(outWidth * outHeight);
  for (let y = 0; y < outHeight; y++) {
    for (let x = 0; x < outWidth; x++) {
      let v = 0;
      for (const t of yTaps[y]) v += t.weight * rows[t.index * outWidth + x];
      out[y * outWidth + x] = v;
    }
  }
  return { width: outWidth, height: outHeight, data: out };
}

/** Scales so the longer side is `box` pixels, keeping the aspect ratio. */
export function fitLongerSide(img: Gray, box: number): Gray {
  const longer = max(img.width, img.height);
  const w = max(1, round((img.width * box) / longer));
  const h = max(1, round((img.height * box) / longer));
  return resample(img, w, h);
}
