import { DropoutMasks, effectiveRate } from '../../../../runtime/engine/dropout-mask.js';
import { Sfc32 } from '../../../../runtime/engine/prng.js';

describe('effectiveRate', () => {
  it('rounds to multiples of 1/256 and rejects rates outside [0, 1)', () => {
    expect(effectiveRate(0)).toBe(0);
    expect(effectiveRate(0.5)).toBe(0.5);
    expect(effectiveRate(0.25)).toBe(0.25);
    expect(effectiveRate(0.3)).toBe(77 / 256);
    expect(() => effectiveRate(1)).toThrow(RangeError);
    expect(() => effectiveRate(-0.1)).toThrow(RangeError);
    expect(() => effectiveRate(NaN)).toThrow(RangeError);
  });
});

describe('DropoutMasks', () => {
  it('gives all ones at rate 0', () => {
    expect(Array.from(new DropoutMasks(1).fill(10, 0))).toEqual(new Array(10).fill(1));
  });

  it.each([0.1, 0.25, 0.5, 0.8])('drops about a share %p of values and scales the rest so the mean is 1', (rate) => {
    const n = 200_003; // not a multiple of 4: exercises the tail
    const m = new DropoutMasks(42).fill(n, rate);
    const p = effectiveRate(rate);
    let zeros = 0;
    let sum = 0;
    for (const v of m) {
      if (v === 0) zeros++;
      else expect(v).toBeCloseTo(1 / (1 - p), 6);
      sum += v;
    }
    const sd = Math.sqrt((p * (1 - p)) / n);
    expect(Math.abs(zeros / n - p)).toBeLessThan(5 * sd);
    expect(Math.abs(sum / n - 1)).toBeLessThan((5 * sd) / (1 - p));
  });

  it('is reproducible for a seed and differs between seeds and between calls', () => {
    const a = Array.from(new DropoutMasks(5).fill(64, 0.5));
    expect(Array.from(new DropoutMasks(5).fill(64, 0.5))).toEqual(a);
    expect(Array.from(new DropoutMasks(6).fill(64, 0.5))).not.toEqual(a);
    const g = new DropoutMasks(5);
    const first = Array.from(g.fill(64, 0.5));
    expect(Array.from(g.fill(64, 0.5))).not.toEqual(first);
  });

  it('draws neighbouring values independently (no correlation between adjacent bytes)', () => {
    const m = new DropoutMasks(9).fill(100_000, 0.5);
    let both = 0;
    for (let i = 0; i + 1 < m.length; i += 2) if (m[i] === 0 && m[i + 1] === 0) both++;
    expect(Math.abs(both / 50_000 - 0.25)).toBeLessThan(0.01);
  });
});

describe('Sfc32', () => {
  it('yields uniform floats in [0, 1) with mean 1/2', () => {
    const r = new Sfc32(3);
    let s = 0;
    for (let i = 0; i < 100_000; i++) {
      const v = r.next();
      expect(v >= 0 && v < 1).toBe(true);
      s += v;
    }
    expect(Math.abs(s / 100_000 - 0.5)).toBeLessThan(0.005);
  });
});
