import { borderValues } from './border.js';
import { UNIT } from './flatten-alpha.js';
import { median } from './histogram.js';
import type { Planes } from './types.js';

// local aliases: hot loops run much faster without a global lookup (notably under jest's vm)
const { abs, ceil, floor, max, min } = Math;

/** Below this size a photo's lighting cannot vary much: the border median is the background. */
const MIN_SIZE_FOR_SURFACE = 48;
/** Blocks across the longer side; each gives one estimate of the paper's local brightness. */
const BLOCKS = 16;
/** Within a block, the paper is the brighter (or, on a dark background, darker) part. */
const PAPER_QUANTILE = 0.9;
const LEVELS = 256;
const ITERATIONS = 5;

/**
 * The background of one plane, given a row at a time: the JS steps after it read it row by row,
 * so the whole surface (a float plane per colour) is never stored.
 */
export interface Background {
  /** Writes row `y` of the background (0..1) into `out`, which holds one row (width values). */
  fillRow(y: number, out: Float32Array): void;
}

/**
 * Estimates the background (paper and its uneven lighting) of each plane as a smooth quadratic
 * surface. Each block of the image gives the paper's local level (its 90th percentile: ink is the
 * minority and darker); a quadratic is fitted to those levels robustly, dropping blocks that sit
 * in the ink's direction (a block inside a thick stroke). A quadratic cannot follow a pen stroke,
 * so the digit is never mistaken for background, while a phone's lighting gradient or vignette is.
 */
export function estimateBackground(img: Planes, inkIsDarker: boolean): Background[] {
  const { width, height } = img;
  if (min(width, height) < MIN_SIZE_FOR_SURFACE) {
    return img.planes.map((plane) => new FlatBackground(median(borderValues({ width, height, data: plane }))));
  }
  return blockLevels(img, inkIsDarker).map((samples) => new QuadraticBackground(fitSurface(samples, inkIsDarker), width, height));
}

/** The whole background plane (width × height), for the callers that want it stored. */
export function backgroundPlane(bg: Background, width: number, height: number): Float32Array {
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) bg.fillRow(y, out.subarray(y * width, (y + 1) * width));
  return out;
}

/** One level everywhere (small images: the border's median). */
class FlatBackground implements Background {
  constructor(private readonly level: number) {}

  fillRow(_y: number, out: Float32Array): void {
    out.fill(this.level);
  }
}

type Coefficients = [number, number, number, number, number, number];
const TERMS = 6;

interface Samples {
  /** Quadratic basis [1, u, v, u², uv, v²] per block centre, u and v in -1..1. */
  phi: Float64Array;
  level: Float64Array;
  /** 1 for the blocks on the image's edge. */
  edge: Uint8Array;
}

/** Each 8-bit sample's level bin: the bin its 0..1 value (flatten-alpha's UNIT) falls in. */
const BIN_OF_BYTE = Int32Array.from(UNIT, (v) => (v <= 0 ? 0 : v >= 1 ? LEVELS - 1 : (v * LEVELS) | 0));

/** The paper's level in every block of every plane (one Samples per plane; phi and edge shared). */
function blockLevels(img: Planes, inkIsDarker: boolean): Samples[] {
  const { width, height, planes } = img;
  const size = max(4, ceil(max(width, height) / BLOCKS));
  const bx = ceil(width / size);
  const by = ceil(height / size);
  const column = new Int32Array(width);
  for (let x = 0; x < width; x++) column[x] = floor(x / size) * LEVELS;
  const q = inkIsDarker ? PAPER_QUANTILE : 1 - PAPER_QUANTILE;
  const phi = new Float64Array(bx * by * TERMS);
  const edge = new Uint8Array(bx * by);
  const levels = planes.map(() => new Float64Array(bx * by));
  // one row of blocks at a time: small histograms that stay in cache
  const counts = planes.map(() => new Int32Array(bx * LEVELS));
  const odd = new Int32Array(bx * LEVELS);
  for (let j = 0; j < by; j++) {
    const y0 = j * size;
    const h = min(size, height - y0);
    for (const c of counts) c.fill(0);
    if (img.samples) {
      tallyBytes(counts, img.samples.data, img.samples.channels, column, width, y0, h);
    } else {
      for (let c = 0; c < planes.length; c++) tallyFloats(counts[c], odd, planes[c], column, width, y0, h);
    }
    for (let i = 0; i < bx; i++) {
      const b = j * bx + i;
      const x0 = i * size;
      const w = min(size, width - x0);
      for (let c = 0; c < planes.length; c++) levels[c][b] = (quantileLevel(counts[c], i * LEVELS, w * h, q * w * h) + 0.5) / LEVELS;
      edge[b] = i === 0 || j === 0 || i === bx - 1 || j === by - 1 ? 1 : 0;
      const u = (2 * (x0 + w / 2)) / width - 1;
      const v = (2 * (y0 + h / 2)) / height - 1;
      const o = b * TERMS;
      phi[o] = 1;
      phi[o + 1] = u;
      phi[o + 2] = v;
      phi[o + 3] = u * u;
      phi[o + 4] = u * v;
      phi[o + 5] = v * v;
    }
  }
  return levels.map((level) => ({ phi, level, edge }));
}

/**
 * Rows y0..y0+h of one float plane into its block histograms; even and odd columns count into
 * two tallies (merged at the end), so runs of equal values (paper) do not wait on one counter.
 */
function tallyFloats(counts: Int32Array, odd: Int32Array, plane: Float32Array, column: Int32Array, width: number, y0: number, h: number): void {
  odd.fill(0);
  for (let y = y0; y < y0 + h; y++) {
    const row = y * width;
    let x = 0;
    for (; x + 1 < width; x += 2) {
      // v * LEVELS is in (0, LEVELS) here, so truncation is floor
      const v = plane[row + x];
      const k = column[x] + (v <= 0 ? 0 : v >= 1 ? LEVELS - 1 : (v * LEVELS) | 0);
      counts[k] = (counts[k] + 1) | 0;
      const w = plane[row + x + 1];
      const m = column[x + 1] + (w <= 0 ? 0 : w >= 1 ? LEVELS - 1 : (w * LEVELS) | 0);
      odd[m] = (odd[m] + 1) | 0;
    }
    if (x < width) {
      const v = plane[row + x];
      const k = column[x] + (v <= 0 ? 0 : v >= 1 ? LEVELS - 1 : (v * LEVELS) | 0);
      counts[k] = (counts[k] + 1) | 0;
    }
  }
  for (let k = 0; k < counts.length; k++) counts[k] = (counts[k] + odd[k]) | 0;
}

/**
 * The same histograms from the 8-bit samples the planes were made of, all planes in one pass
 * (the planes' counters are independent, so one plane's runs do not stall the others).
 */
function tallyBytes(counts: Int32Array[], data: Uint8Array, channels: number, column: Int32Array, width: number, y0: number, h: number): void {
  if (counts.length === 3) {
    const [r, g, b] = counts;
    for (let y = y0; y < y0 + h; y++) {
      for (let x = 0, j = y * width * channels; x < width; x++, j += channels) {
        const at = column[x];
        const kr = at + BIN_OF_BYTE[data[j]];
        r[kr] = (r[kr] + 1) | 0;
        const kg = at + BIN_OF_BYTE[data[j + 1]];
        g[kg] = (g[kg] + 1) | 0;
        const kb = at + BIN_OF_BYTE[data[j + 2]];
        b[kb] = (b[kb] + 1) | 0;
      }
    }
    return;
  }
  for (let c = 0; c < counts.length; c++) {
    const counts1 = counts[c];
    for (let y = y0; y < y0 + h; y++) {
      for (let x = 0, j = y * width * channels + c; x < width; x++, j += channels) {
        const k = column[x] + BIN_OF_BYTE[data[j]];
        counts1[k] = (counts1[k] + 1) | 0;
      }
    }
  }
}

/**
 * The first level at which the cumulative count of a block's histogram (at `at`, `total` values)
 * reaches `target`; counted from the end nearer to it (the paper's quantile sits near the top).
 */
function quantileLevel(counts: Int32Array, at: number, total: number, target: number): number {
  if (target > total / 2) {
    // cumulative(l - 1) = total - above - counts[l]: step down while that still reaches the target
    let above = 0;
    let l = LEVELS - 1;
    while (l > 0 && total - above - counts[at + l] >= target) above += counts[at + l--];
    return l;
  }
  let seen = 0;
  let l = 0;
  for (; l < LEVELS; l++) {
    seen += counts[at + l];
    if (seen >= target) break;
  }
  return l;
}

function fitSurface({ phi, level, edge }: Samples, inkIsDarker: boolean): Coefficients {
  const count = level.length;
  // the first fit sees only the image's edge, which is paper in nearly every picture of a digit:
  // started from all blocks, a digit drawn large (a bold 0 filling its frame) holds most of them
  // and the fit took the strokes for paper, leaving a blank page
  const keep = Uint8Array.from(edge);
  const inkward = new Float64Array(count);
  let coef: Coefficients = [median(level), 0, 0, 0, 0, 0];
  for (let iter = 0; iter < ITERATIONS; iter++) {
    const next = leastSquares(phi, level, keep);
    if (!next) break;
    coef = next;
    // residual measured in the ink's direction: positive = looks like ink
    const kept: number[] = [];
    for (let k = 0; k < count; k++) {
      let fit = 0;
      for (let j = 0; j < TERMS; j++) fit += coef[j] * phi[k * TERMS + j];
      inkward[k] = inkIsDarker ? fit - level[k] : level[k] - fit;
      if (keep[k]) kept.push(inkward[k]);
    }
    const mid = median(kept);
    const sigma = 1.4826 * median(kept.map((r) => abs(r - mid)));
    // one-sided: only blocks that look like ink are dropped
    for (let k = 0; k < count; k++) keep[k] = inkward[k] <= mid + 3 * sigma + 0.02 ? 1 : 0;
  }
  return coef;
}

/** Normal equations solved by Gaussian elimination with partial pivoting; null when singular. */
function leastSquares(phi: Float64Array, z: Float64Array, keep: Uint8Array): Coefficients | null {
  const m = TERMS;
  const cols = m + 1;
  // the augmented matrix [AᵀA | Aᵀz], row-major
  const a = new Float64Array(m * cols);
  let used = 0;
  for (let k = 0; k < z.length; k++) {
    if (!keep[k]) continue;
    used++;
    const o = k * m;
    const zk = z[k];
    for (let i = 0; i < m; i++) {
      const pi = phi[o + i];
      const row = i * cols;
      for (let j = i; j < m; j++) a[row + j] += pi * phi[o + j];
      a[row + m] += pi * zk;
    }
  }
  if (used < 2 * m) return null;
  for (let i = 0; i < m; i++) for (let j = 0; j < i; j++) a[i * cols + j] = a[j * cols + i];
  // rows are swapped through an index, as the solution only needs them in pivot order
  const order = [0, 1, 2, 3, 4, 5];
  for (let col = 0; col < m; col++) {
    let pivot = col;
    for (let r = col + 1; r < m; r++) if (abs(a[order[r] * cols + col]) > abs(a[order[pivot] * cols + col])) pivot = r;
    const p = order[pivot] * cols;
    if (abs(a[p + col]) < 1e-9) return null;
    order[pivot] = order[col];
    order[col] = p / cols;
    for (let r = 0; r < m; r++) {
      if (r === col) continue;
      const q = order[r] * cols;
      const f = a[q + col] / a[p + col];
      for (let j = col; j <= m; j++) a[q + j] -= f * a[p + j];
    }
  }
  return order.map((r, i) => a[r * cols + m] / a[r * cols + i]) as Coefficients;
}

/** The fitted quadratic at every pixel, clamped to 0..1. */
export class QuadraticBackground implements Background {
  /** u (-1..1) at each column's centre. */
  readonly us: Float64Array;

  constructor(
    private readonly coef: Coefficients,
    width: number,
    private readonly height: number,
  ) {
    this.us = new Float64Array(width);
    for (let x = 0; x < width; x++) this.us[x] = (2 * (x + 0.5)) / width - 1;
  }

  /**
   * Row `y` as a quadratic in u: the surface at column x is `c + u · (l + q · u)` with u = us[x],
   * clamped to 0..1 (what fillRow writes; callers that evaluate it themselves must do the same).
   */
  rowTerms(y: number): { c: number; l: number; q: number } {
    const [c0, cu, cv, cuu, cuv, cvv] = this.coef;
    const v = (2 * (y + 0.5)) / this.height - 1;
    return { c: c0 + cv * v + cvv * v * v, l: cu + cuv * v, q: cuu };
  }

  fillRow(y: number, out: Float32Array): void {
    const { c, l, q } = this.rowTerms(y);
    const { us } = this;
    for (let x = 0; x < us.length; x++) {
      const u = us[x];
      const z = c + u * (l + q * u);
      out[x] = z < 0 ? 0 : z > 1 ? 1 : z;
    }
  }
}
