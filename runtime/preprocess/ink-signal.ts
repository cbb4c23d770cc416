import type { Gray, Planes } from './types.js';

// local aliases: hot loops run much faster without a global lookup (notably under jest's vm)
const { max } = Math;

/**
 * How much each pixel looks like ink, signed (negative = lighter than the paper, e.g. glare).
 * On a bright background the contrast is relative to the local paper brightness, so a stroke in
 * the shadowed corner of a photo counts as much as one in the light; colour channels are taken
 * at their strongest, so a blue or red pen stands out as well as a black one. On a dark
 * background (a screen, MNIST itself) it is the plain difference.
 */
export function inkSignal(img: Planes, background: Float32Array[], brightBackground: boolean): Gray {
  const { width, height, planes } = img;
  const n = width * height;
  const out = new Float32Array(n).fill(-Infinity);
  for (let c = 0; c < planes.length; c++) {
    const plane = planes[c];
    const bg = background[c];
    for (let i = 0; i < n; i++) {
      const t = brightBackground ? (bg[i] - plane[i]) / max(bg[i], 0.2) : plane[i] - bg[i];
      if (t > out[i]) out[i] = t;
    }
  }
  return { width, height, data: out };
}
