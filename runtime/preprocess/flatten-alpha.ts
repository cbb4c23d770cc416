import type { DecodedImage } from './decode.js';
import type { Planes } from './types.js';

/** 8-bit sample → 0..1, looked up rather than divided per pixel. */
export const UNIT = Float32Array.from({ length: 256 }, (_, k) => k / 255);

/**
 * Turns the interleaved 8-bit working image into float planes (1 grey or 3 colour), compositing
 * any alpha onto the background that keeps the ink visible. Where little is opaque (strokes drawn
 * on a transparent canvas), the opaque pixels are the ink: composite onto the colour that
 * contrasts with them (white under dark ink). Where most is opaque (a photo with transparent
 * margins), the transparent parts are margins: composite onto the opaque content's mean colour.
 */
export function flattenAlpha(img: DecodedImage): { planes: Planes; hadAlpha: boolean } {
  const { data, channels, workWidth: width, workHeight: height, hasAlpha } = img;
  const n = width * height;
  const colourCount = hasAlpha ? channels - 1 : channels;
  // a grey picture stored as RGB (scans, canvas exports, most PNGs of digits) becomes one plane:
  // each later step gives the same result on one of three equal planes, for a third of the work
  const count = colourCount === 3 && equalColours(data, n, channels) ? 1 : colourCount;
  const planes = deinterleave(data, n, channels, count);
  const samples = { data, channels };
  if (!hasAlpha) return { planes: { width, height, planes, samples }, hadAlpha: false };

  const alpha = new Float32Array(n);
  let opaqueWeight = 0;
  for (let i = 0, j = channels - 1; i < n; i++, j += channels) {
    alpha[i] = UNIT[data[j]];
    opaqueWeight += alpha[i];
  }
  const opaqueShare = opaqueWeight / n;
  if (opaqueShare > 0.999) return { planes: { width, height, planes, samples }, hadAlpha: true };

  const background = backgroundFor(planes, alpha, opaqueShare, colourCount === 3);
  for (let c = 0; c < count; c++) {
    const plane = planes[c];
    const bg = background[c];
    for (let i = 0; i < n; i++) plane[i] = alpha[i] * plane[i] + (1 - alpha[i]) * bg;
  }
  return { planes: { width, height, planes }, hadAlpha: true };
}

/** True when every pixel's first three channels hold the same value. */
function equalColours(data: Uint8Array, n: number, channels: number): boolean {
  for (let j = 0, end = n * channels; j < end; j += channels) {
    const v = data[j];
    if (data[j + 1] !== v || data[j + 2] !== v) return false;
  }
  return true;
}

/** The first `count` channels of interleaved 8-bit samples as 0..1 float planes. */
function deinterleave(data: Uint8Array, n: number, channels: number, count: number): Float32Array[] {
  const planes = Array.from({ length: count }, () => new Float32Array(n));
  if (count === 3) {
    // one pass for the common RGB(A) case
    // k / 255 stored as float32 is UNIT[k] exactly, and here measured faster than the lookup
    const [r, g, b] = planes;
    for (let i = 0, j = 0; i < n; i++, j += channels) {
      r[i] = data[j] / 255;
      g[i] = data[j + 1] / 255;
      b[i] = data[j + 2] / 255;
    }
    return planes;
  }
  for (let c = 0; c < count; c++) {
    const plane = planes[c];
    for (let i = 0, j = c; i < n; i++, j += channels) plane[i] = data[j] / 255;
  }
  return planes;
}

function backgroundFor(planes: Float32Array[], alpha: Float32Array, opaqueShare: number, colour: boolean): number[] {
  const mean = planes.map((plane) => {
    let sum = 0;
    let weight = 0;
    for (let i = 0; i < plane.length; i++) {
      sum += alpha[i] * plane[i];
      weight += alpha[i];
    }
    return weight > 0 ? sum / weight : 0;
  });
  if (opaqueShare >= 0.5) return mean;
  // an RGB image kept as one plane (equal colours) is weighed as the three equal means it had
  const [r, g, b] = mean.length === 3 ? mean : [mean[0], mean[0], mean[0]];
  const luminance = colour ? 0.299 * r + 0.587 * g + 0.114 * b : mean[0];
  const contrasting = luminance < 0.5 ? 1 : 0;
  return mean.map(() => contrasting);
}
