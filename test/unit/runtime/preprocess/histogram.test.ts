import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { Histogram, median } from '../../../../runtime/preprocess/histogram.js';

/** The definition: middle of the sorted values (mean of the two middle ones for an even count). */
function sortedMedian(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = Float64Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const value = fc.oneof(fc.integer({ min: -4, max: 4 }), fc.double({ min: -3, max: 3, noNaN: true }));

describe('median (quickselect)', () => {
  it('equals the middle of the sorted values, duplicates and even counts included', () => {
    fc.assert(
      fc.property(fc.array(value, { maxLength: 300 }), (values) => {
        const copy = [...values];
        // + 0 turns −0 into 0: with both zeros among the values, either may sit in the middle
        expect(median(values) + 0).toBe(sortedMedian(values) + 0);
        expect(values).toEqual(copy);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('Histogram bulk adds', () => {
  const quantiles = (h: Histogram): number[] => [0, 0.05, 0.1, 0.5, 0.9, 0.95, 1].map((q) => h.quantile(q));

  it.each([
    [-1, 1],
    [0, 1],
    [0, 2],
    [0, 3],
  ])('addAll and addDeviations fill the same bins as add, one by one (range %d..%d)', (lo, hi) => {
    fc.assert(
      fc.property(fc.array(value, { maxLength: 500 }), fc.double({ min: -1, max: 1, noNaN: true }), (values, centre) => {
        const data = Float32Array.from(values);
        const one = new Histogram(lo, hi);
        for (const v of data) one.add(v);
        const bulk = new Histogram(lo, hi).addAll(data);
        expect(bulk.count).toBe(one.count);
        expect(quantiles(bulk)).toEqual(quantiles(one));
        expect(quantiles(bulk.above(0.1))).toEqual(quantiles(one.above(0.1)));

        const spread = new Histogram(lo, hi);
        for (const v of data) spread.add(Math.abs(v - centre));
        expect(quantiles(new Histogram(lo, hi).addDeviations(data, centre))).toEqual(quantiles(spread));
      }),
      { numRuns: 300 },
    );
  });
});
