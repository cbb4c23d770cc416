import { borderValues } from './border.js';
import { Histogram } from './histogram.js';
import type { Gray } from './types.js';

/** Below this ink-to-paper contrast nothing on the page is taken for ink. */
const MIN_CONTRAST = 0.1;
/** Ink must also stand this many noise deviations above the paper. */
const MIN_CONTRAST_SIGMAS = 6;
/** Pixels within this many noise deviations of the paper are paper (texture, sensor noise). */
const NOISE_SIGMAS = 3;

export interface Normalised {
  ink: Gray;
  /** Ink-to-paper contrast before stretching (measured even when judged blank). */
  contrast: number;
  blank: boolean;
}

/**
 * Maps the ink signal to 0..1: paper and its noise to 0 (a soft floor a few noise deviations
 * above the paper level, so the anti-aliased edges of strokes survive), the strokes' core (their
 * 95th percentile) to 1. When nothing stands clearly above the noise, the page is blank.
 */
export function normaliseContrast(signal: Gray): Normalised {
  const { width, height, data } = signal;
  const values = new Histogram(-1, 1).addAll(data);
  // the paper's level and noise: from the whole page, or from its edge when that is lower — an
  // object filling most of the frame (a garment, a thumb) puts the page's median on the object,
  // which then passes for paper and the page for blank
  const page = paperOf(values, data);
  const edge = paperOf(null, borderValues(signal));
  const { paper, sigma } = edge.paper < page.paper - 3 * edge.sigma ? edge : page;
  const floor = paper + NOISE_SIGMAS * sigma;

  const above = values.above(floor);
  const core = above.quantile(0.95);
  const contrast = Math.max(0, core - paper);
  const minPixels = Math.max(2, 0.0002 * data.length);
  const blank = above.count < minPixels || contrast < Math.max(MIN_CONTRAST, MIN_CONTRAST_SIGMAS * sigma);
  const out = new Float32Array(data.length);
  if (!blank) {
    const scale = 1 / Math.max(core - floor, 1e-6);
    for (let i = 0; i < data.length; i++) {
      const v = (data[i] - floor) * scale;
      out[i] = v <= 0 ? 0 : v >= 1 ? 1 : v;
    }
  }
  return { ink: { width, height, data: out }, contrast, blank };
}

/** The median level of `data` (the paper) and its robust noise deviation (1.4826 · MAD). */
function paperOf(histogram: Histogram | null, data: ArrayLike<number>): { paper: number; sigma: number } {
  const values = histogram ?? new Histogram(-1, 1).addAll(data);
  const paper = values.quantile(0.5);
  const spread = new Histogram(0, 2).addDeviations(data, paper);
  return { paper, sigma: Math.max(1 / 255, 1.4826 * spread.quantile(0.5)) };
}
