import type { Gray, Planes } from './types.js';

/** Paper darker than this is treated as this bright, so deep shadow does not blow up the ratio. */
const MIN_PAPER = 0.2;

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
  const out = new Float32Array(n);
  for (let c = 0; c < planes.length; c++) {
    const plane = planes[c];
    const bg = background[c];
    // the first plane sets the value, the others raise it (the strongest channel wins)
    if (brightBackground) {
      for (let i = 0; i < n; i++) {
        const b = bg[i];
        const t = (b - plane[i]) / (b > MIN_PAPER ? b : MIN_PAPER);
        if (c === 0 || t > out[i]) out[i] = t;
      }
    } else {
      for (let i = 0; i < n; i++) {
        const t = plane[i] - bg[i];
        if (c === 0 || t > out[i]) out[i] = t;
      }
    }
  }
  return { width, height, data: out };
}
