import * as tf from '@tensorflow/tfjs';
import { annealFactor, learningRateAt, mixedMask, WeightAverage } from '../../../../runtime/train/train-loop.js';
import { DropoutMasks } from '../../../../runtime/engine/dropout-mask.js';

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

describe('mixedMask', () => {
  it('draws the mask at the rate, then redraws its first rows at the heavy rate, from one stream', async () => {
    const rows = 80;
    const f = 64;
    const m = mixedMask(new DropoutMasks(5), rows, f, 0.25, 18, 0.5);
    const ref = new DropoutMasks(5);
    const base = Array.from(ref.fill(rows * f, 0.25));
    const heavy = Array.from(ref.fill(18 * f, 0.5));
    const got = Array.from(await m.data());
    expect(m.shape).toEqual([rows, f]);
    expect(got.slice(0, 18 * f)).toEqual(heavy);
    expect(got.slice(18 * f)).toEqual(base.slice(18 * f));
    // the heavy rows are 0 or 2, the others 0 or 4/3, at about their rates
    expect(new Set(got.slice(0, 18 * f))).toEqual(new Set([0, 2]));
    expect(new Set(got.slice(18 * f))).toEqual(new Set([0, 4 / 3].map(Math.fround)));
    const dropped = (xs: number[]): number => xs.filter((v) => v === 0).length / xs.length;
    expect(dropped(got.slice(0, 18 * f))).toBeCloseTo(0.5, 1);
    expect(dropped(got.slice(18 * f))).toBeCloseTo(0.25, 1);
    m.dispose();
  });

  it('without heavy rows is the plain mask', async () => {
    const m = mixedMask(new DropoutMasks(9), 4, 10, 0.25, 0, 0.5);
    expect(Array.from(await m.data())).toEqual(Array.from(new DropoutMasks(9).fill(40, 0.25)));
    m.dispose();
  });
});
