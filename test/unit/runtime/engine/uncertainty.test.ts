import { entropy, summarizeBatch, summarizeImage } from '../../../../runtime/engine/uncertainty.js';

const close = (a: number, b: number, eps = 1e-9) => expect(Math.abs(a - b)).toBeLessThan(eps);

describe('entropy', () => {
  it('is 0 for a one-hot distribution and log C for a uniform one', () => {
    expect(entropy([0, 1, 0])).toBe(0);
    close(entropy([0.25, 0.25, 0.25, 0.25]), Math.log(4));
  });
  it('reads a slice at an offset', () => {
    close(entropy([9, 9, 0.5, 0.5], 2, 2), Math.log(2));
  });
});

describe('summarizeImage', () => {
  it('gives zero epistemic uncertainty when all samples agree', () => {
    const p = [0.1, 0.7, 0.2];
    const s = summarizeImage([...p, ...p, ...p], 3, 1, 3, 0);
    expect(s.digit).toBe(1);
    close(s.probability, 0.7);
    close(s.predictiveEntropy, entropy(p));
    close(s.expectedEntropy, entropy(p));
    close(s.mutualInformation, 0);
    expect(s.variationRatio).toBe(0);
    close(s.stdDev, 0);
  });

  it('separates disagreement (epistemic) from the samples own entropy', () => {
    // two confident samples that disagree: mean is uniform over 2 classes
    const s = summarizeImage([1, 0, 0, 1], 2, 1, 2, 0);
    close(s.predictiveEntropy, Math.log(2));
    expect(s.expectedEntropy).toBe(0);
    close(s.mutualInformation, Math.log(2));
    expect(s.digit).toBe(0); // ties go to the lowest class
    close(s.variationRatio, 0.5);
    close(s.stdDev, 0.5); // population std of [1, 0]
  });

  it('computes the population standard deviation (divide by T) of the predicted class', () => {
    const samples = [0.9, 0.1, 0.6, 0.4, 0.6, 0.4, 0.9, 0.1]; // class 0 probs: .9 .6 .6 .9
    const s = summarizeImage(samples, 4, 1, 2, 0);
    close(s.probability, 0.75);
    close(s.stdDev, 0.15);
    expect(s.variationRatio).toBe(0);
  });

  it('is 0 for stdDev, MI and variation ratio at T = 1', () => {
    const s = summarizeImage([0.2, 0.3, 0.5], 1, 1, 3, 0);
    expect(s.stdDev).toBe(0);
    expect(s.mutualInformation).toBe(0);
    expect(s.variationRatio).toBe(0);
    close(s.predictiveEntropy, s.expectedEntropy);
  });

  it('clamps a negative rounding difference of MI at 0', () => {
    const p = [1 / 3, 1 / 3, 1 / 3];
    const s = summarizeImage([...p, ...p], 2, 1, 3, 0);
    expect(s.mutualInformation).toBeGreaterThanOrEqual(0);
  });

  it('rejects a block that is too short or an image out of range', () => {
    expect(() => summarizeImage([1, 0], 2, 1, 2, 0)).toThrow(RangeError);
    expect(() => summarizeImage([1, 0], 1, 1, 2, 1)).toThrow(RangeError);
  });
});

describe('summarizeBatch', () => {
  it('reads image n of a [T, N, C] block from each sample row', () => {
    // T=2, N=2, C=2: sample0 = [img0, img1], sample1 = [img0, img1]
    const block = [1, 0, 0.2, 0.8, 1, 0, 0.4, 0.6];
    const [a, b] = summarizeBatch(block, 2, 2, 2);
    expect(a.digit).toBe(0);
    expect(a.probabilities).toEqual([1, 0]);
    expect(b.digit).toBe(1);
    close(b.probability, 0.7);
    close(b.stdDev, 0.1);
  });

  it('keeps the mean probabilities a distribution', () => {
    const block = Float32Array.from([0.1, 0.9, 0.5, 0.5, 0.3, 0.7]);
    const [s] = summarizeBatch(block, 3, 1, 2);
    close(s.probabilities.reduce((x, y) => x + y, 0), 1, 1e-6);
  });
});
