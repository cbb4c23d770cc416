import { QuadraticBackground, type Background } from './lighting.js';
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
 * background (a screen, MNIST itself) it is the plain difference. The background is read a row at
 * a time into a small buffer that stays in cache.
 */
export function inkSignal(img: Planes, background: Background[], brightBackground: boolean): Gray {
  const { width, height, planes } = img;
  const out = new Float32Array(width * height);
  if (planes.length === 3 && brightBackground && background.every((b) => b instanceof QuadraticBackground)) {
    strongestOfThreeOnSurfaces(out, width, height, planes, background as QuadraticBackground[]);
    return { width, height, data: out };
  }
  const rows = planes.map(() => new Float32Array(width));
  for (let y = 0; y < height; y++) {
    for (let c = 0; c < planes.length; c++) background[c].fillRow(y, rows[c]);
    const at = y * width;
    if (planes.length === 3) strongestOfThree(out, at, width, planes, rows, brightBackground);
    else for (let c = 0; c < planes.length; c++) raise(out, at, width, planes[c], rows[c], brightBackground, c === 0);
  }
  return { width, height, data: out };
}

/** out = the plane's signal (first plane) or the larger of out and it, over one row (`n` pixels from `at`). */
function raise(out: Float32Array, at: number, n: number, plane: Float32Array, bg: Float32Array, bright: boolean, first: boolean): void {
  if (first && bright) {
    for (let x = 0, i = at; x < n; x++, i++) {
      const b = bg[x];
      out[i] = (b - plane[i]) / (b > MIN_PAPER ? b : MIN_PAPER);
    }
    return;
  }
  for (let x = 0, i = at; x < n; x++, i++) {
    const b = bg[x];
    const t = bright ? (b - plane[i]) / (b > MIN_PAPER ? b : MIN_PAPER) : plane[i] - b;
    if (first || t > out[i]) out[i] = t;
  }
}

/**
 * Picks between two values without a branch: `pick[+(b > a)]` after pick = [a, b]. A grey photo's
 * three channels are nearly equal, so which one is strongest is noise, and a branch on it was
 * mispredicted about every other pixel (this loop took 2.5× as long with `if (t > o) o = t`).
 */
const pick = new Float64Array(2);

/**
 * The three channels in one pass, over one row (`n` pixels from `at`): the largest of the three
 * float32-rounded signals, which is what comparing each signal against the stored (float32) value
 * gives, as `raise` does: rounding to float32 keeps the order (a value above a float32 rounds to one
 * at least as large).
 */
function strongestOfThree(
  out: Float32Array,
  at: number,
  n: number,
  [p0, p1, p2]: Float32Array[],
  [b0, b1, b2]: Float32Array[],
  bright: boolean,
): void {
  const s = pick;
  if (bright) {
    for (let x = 0, i = at; x < n; x++, i++) {
      const c0 = b0[x];
      const c1 = b1[x];
      const c2 = b2[x];
      const t0 = fround((c0 - p0[i]) / (c0 > MIN_PAPER ? c0 : MIN_PAPER));
      const t1 = fround((c1 - p1[i]) / (c1 > MIN_PAPER ? c1 : MIN_PAPER));
      const t2 = fround((c2 - p2[i]) / (c2 > MIN_PAPER ? c2 : MIN_PAPER));
      s[0] = t0;
      s[1] = t1;
      const o = s[+(t1 > t0)];
      s[0] = o;
      s[1] = t2;
      out[i] = s[+(t2 > o)];
    }
  } else {
    for (let x = 0, i = at; x < n; x++, i++) {
      const t0 = fround(p0[i] - b0[x]);
      const t1 = fround(p1[i] - b1[x]);
      const t2 = fround(p2[i] - b2[x]);
      s[0] = t0;
      s[1] = t1;
      const o = s[+(t1 > t0)];
      s[0] = o;
      s[1] = t2;
      out[i] = s[+(t2 > o)];
    }
  }
}

/**
 * strongestOfThree on a bright background for a whole colour photo, with the three background
 * surfaces evaluated in the same loop instead of written to rows first (each value clamped and
 * rounded to float32 exactly as QuadraticBackground.fillRow stores it): a photo's commonest case.
 */
function strongestOfThreeOnSurfaces(out: Float32Array, width: number, height: number, [p0, p1, p2]: Float32Array[], [s0, s1, s2]: QuadraticBackground[]): void {
  const s = pick;
  const us = s0.us;
  for (let y = 0; y < height; y++) {
    const r0 = s0.rowTerms(y);
    const r1 = s1.rowTerms(y);
    const r2 = s2.rowTerms(y);
    const { c: a0, l: l0, q: q0 } = r0;
    const { c: a1, l: l1, q: q1 } = r1;
    const { c: a2, l: l2, q: q2 } = r2;
    for (let x = 0, i = y * width; x < width; x++, i++) {
      const u = us[x];
      let z = a0 + u * (l0 + q0 * u);
      const c0 = fround(z < 0 ? 0 : z > 1 ? 1 : z);
      z = a1 + u * (l1 + q1 * u);
      const c1 = fround(z < 0 ? 0 : z > 1 ? 1 : z);
      z = a2 + u * (l2 + q2 * u);
      const c2 = fround(z < 0 ? 0 : z > 1 ? 1 : z);
      const t0 = fround((c0 - p0[i]) / (c0 > MIN_PAPER ? c0 : MIN_PAPER));
      const t1 = fround((c1 - p1[i]) / (c1 > MIN_PAPER ? c1 : MIN_PAPER));
      const t2 = fround((c2 - p2[i]) / (c2 > MIN_PAPER ? c2 : MIN_PAPER));
      s[0] = t0;
      s[1] = t1;
      const o = s[+(t1 > t0)];
      s[0] = o;
      s[1] = t2;
      out[i] = s[+(t2 > o)];
    }
  }
}
