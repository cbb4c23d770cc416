import { borderValues } from './border.js';
import { Histogram } from './histogram.js';
import { luminance } from './luminance.js';
import type { Gray, Planes } from './types.js';

const { fround } = Math;

export interface Polarity {
  /** True when the background is brighter than the ink (ink on paper): the image gets inverted. */
  brightBackground: boolean;
  /** Background luminance, the median of the border frame. */
  background: number;
}

/** How far from the background a pixel must be to count as a vote for the ink's direction. */
const VOTE_MARGIN = 0.2;

/**
 * Decides which way the ink goes. The background is the border frame's median; the ink is what
 * departs from it, and the direction most pixels depart in (darker or brighter) wins. With no
 * clear departure (blank, or mid-grey noise), a bright background means ink on paper.
 */
export function detectPolarity(lum: Gray): Polarity {
  const background = new Histogram(0, 1).addAll(borderValues(lum)).quantile(0.5);
  const darkBelow = background - VOTE_MARGIN;
  const brightAbove = background + VOTE_MARGIN;
  const { data } = lum;
  let darker = 0;
  let brighter = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v < darkBelow) darker++;
    else if (v > brightAbove) brighter++;
  }
  const brightBackground = darker === brighter ? background > 0.5 : darker > brighter;
  return { brightBackground, background };
}

/**
 * detectPolarity of the planes' Rec. 601 luma (runtime/preprocess/luminance.ts), without storing
 * the luma plane: the border's luma first, then each pixel's as the votes are counted, rounded to
 * float32 as a stored plane would be.
 */
export function detectPolarityOfPlanes(img: Planes): Polarity {
  const { width, height, planes } = img;
  if (planes.length === 1) return detectPolarity({ width, height, data: planes[0] });
  const [r, g, b] = planes;
  const br = borderValues({ width, height, data: r });
  const bg = borderValues({ width, height, data: g });
  const bb = borderValues({ width, height, data: b });
  const border = luminance({ width: br.length, height: 1, planes: [br, bg, bb] }).data;
  const background = new Histogram(0, 1).addAll(border).quantile(0.5);
  const darkBelow = background - VOTE_MARGIN;
  const brightAbove = background + VOTE_MARGIN;
  let darker = 0;
  let brighter = 0;
  for (let i = 0; i < r.length; i++) {
    // the same sum as luminance(), in the same order
    const v = fround(0.299 * r[i] + 0.587 * g[i] + 0.114 * b[i]);
    if (v < darkBelow) darker++;
    else if (v > brightAbove) brighter++;
  }
  const brightBackground = darker === brighter ? background > 0.5 : darker > brighter;
  return { brightBackground, background };
}
