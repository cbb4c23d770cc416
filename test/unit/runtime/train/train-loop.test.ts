import { annealFactor } from '../../../../runtime/train/train-loop.js';

describe('annealFactor', () => {
  it('is 1 before the annealed share of the steps, then falls linearly to the floor at the last step', () => {
    const a = { share: 0.25, floor: 0.2 };
    expect(annealFactor(0, 101, a)).toBe(1);
    expect(annealFactor(75, 101, a)).toBe(1);
    expect(annealFactor(101, 101, a)).toBeCloseTo(0.2, 10);
    const mid = annealFactor(88, 101, a);
    expect(mid).toBeGreaterThan(0.2);
    expect(mid).toBeLessThan(1);
    for (let s = 76; s <= 101; s++) expect(annealFactor(s, 101, a)).toBeLessThanOrEqual(annealFactor(s - 1, 101, a));
  });

  it('is always 1 with a share of 0', () => {
    expect(annealFactor(99, 100, { share: 0, floor: 0 })).toBe(1);
  });
});
