import { borderValues } from './border.js';
import { Histogram } from './histogram.js';
import type { Gray } from './types.js';

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
  const border = new Histogram(0, 1);
  for (const v of borderValues(lum)) border.add(v);
  const background = border.quantile(0.5);
  let darker = 0;
  let brighter = 0;
  for (const v of lum.data) {
    if (v < background - VOTE_MARGIN) darker++;
    else if (v > background + VOTE_MARGIN) brighter++;
  }
  const brightBackground = darker === brighter ? background > 0.5 : darker > brighter;
  return { brightBackground, background };
}
