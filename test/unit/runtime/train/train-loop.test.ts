import * as tf from '@tensorflow/tfjs';
import { annealFactor, learningRateAt, WeightAverage } from '../../../../runtime/train/train-loop.js';

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

describe('learningRateAt', () => {
  it('decays by a cosine from the rate to 2% of it without SWA', () => {
    expect(learningRateAt(0, 100, 1)).toBeCloseTo(1, 12);
    expect(learningRateAt(50, 100, 1)).toBeCloseTo(0.51, 12);
    expect(learningRateAt(100, 100, 1)).toBeCloseTo(0.02, 12);
  });

  it('with SWA reaches lrFactor × the rate at the start share and stays there', () => {
    const swa = { start: 0.6, lrFactor: 0.2 };
    expect(learningRateAt(0, 100, 2, swa)).toBeCloseTo(2, 12);
    expect(learningRateAt(30, 100, 2, swa)).toBeCloseTo(2 * 0.6, 12);
    for (const s of [60, 75, 100]) expect(learningRateAt(s, 100, 2, swa)).toBeCloseTo(0.4, 12);
    for (let s = 1; s <= 60; s++) expect(learningRateAt(s, 100, 2, swa)).toBeLessThan(learningRateAt(s - 1, 100, 2, swa));
  });
});

describe('WeightAverage', () => {
  it('assigns the mean of the snapshots and frees its sums', () => {
    const v: tf.Variable[] = [tf.variable(tf.tensor1d([1, 2])), tf.variable(tf.scalar(10))];
    const avg = new WeightAverage();
    avg.add(v);
    v[0].assign(tf.tensor1d([3, 6]));
    v[1].assign(tf.scalar(20));
    avg.add(v);
    v[0].assign(tf.tensor1d([5, 10]));
    v[1].assign(tf.scalar(60));
    avg.add(v);
    const before = tf.memory().numTensors;
    avg.assignTo(v);
    expect(Array.from(v[0].dataSync())).toEqual([3, 6]);
    expect(v[1].dataSync()[0]).toBeCloseTo(30, 5);
    expect(avg.count).toBe(3);
    expect(tf.memory().numTensors).toBe(before - 2);
    tf.dispose(v);
  });
});
