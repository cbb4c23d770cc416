import type { Gray, Planes } from './types.js';

// local aliases: hot loops run much faster without a global lookup (notably under jest's vm)
const { fround } = Math;

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
  const out = new Float32Array(width * height);
  if (planes.length === 3) strongestOfThree(out, planes, background, brightBackground);
  else for (let c = 0; c < planes.length; c++) raise(out, planes[c], background[c], brightBackground, c === 0);
  return { width, height, data: out };
}

/** out = the plane's signal (first plane) or the larger of out and it. */
function raise(out: Float32Array, plane: Float32Array, bg: Float32Array, bright: boolean, first: boolean): void {
  const n = out.length;
  for (let i = 0; i < n; i++) {
    const b = bg[i];
    const t = bright ? (b - plane[i]) / (b > MIN_PAPER ? b : MIN_PAPER) : plane[i] - b;
    if (first || t > out[i]) out[i] = t;
  }
}

/** The three channels in one pass; each comparison is against the stored (float32) value, as `raise` does. */
function strongestOfThree(out: Float32Array, [p0, p1, p2]: Float32Array[], [b0, b1, b2]: Float32Array[], bright: boolean): void {
  const n = out.length;
  if (bright) {
    for (let i = 0; i < n; i++) {
      const c0 = b0[i];
      const c1 = b1[i];
      const c2 = b2[i];
      let o = fround((c0 - p0[i]) / (c0 > MIN_PAPER ? c0 : MIN_PAPER));
      const t1 = (c1 - p1[i]) / (c1 > MIN_PAPER ? c1 : MIN_PAPER);
      if (t1 > o) o = fround(t1);
      const t2 = (c2 - p2[i]) / (c2 > MIN_PAPER ? c2 : MIN_PAPER);
      if (t2 > o) o = t2;
      out[i] = o;
    }
  } else {
    for (let i = 0; i < n; i++) {
      let o = fround(p0[i] - b0[i]);
      const t1 = p1[i] - b1[i];
      if (t1 > o) o = fround(t1);
      const t2 = p2[i] - b2[i];
      if (t2 > o) o = t2;
      out[i] = o;
    }
  }
}
