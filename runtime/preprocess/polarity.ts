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
