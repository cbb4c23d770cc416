import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { DropoutMasks, effectiveRate, maskTensor } from '../../../../runtime/engine/dropout-mask.js';
import { selectBackend } from '../../../../runtime/engine/backend.js';
import { testBackend } from '../../../support/backend.js';
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

  it('takes value i from byte i mod 4 of the (i div 4)-th generator number: 0 below the threshold, else 1/(1 − rate)', () => {
    for (const rate of [0.25, 0.3, 0.5, 0.9]) {
      const n = 4099;
      const got = new DropoutMasks(11).fill(n, rate);
      const rng = new Sfc32(11);
      const threshold = Math.round(effectiveRate(rate) * 256);
      let r = 0;
      for (let i = 0; i < n; i++) {
        if (i % 4 === 0) r = rng.nextUint32();
        const byte = (r >>> (8 * (i % 4))) & 255;
        expect(got[i]).toBe(byte < threshold ? 0 : Math.fround(1 / (1 - effectiveRate(rate))));
      }
    }
  });

  it('gives the same values in a new array with fresh() as with fill()', () => {
    const a = new DropoutMasks(3);
    const b = new DropoutMasks(3);
    const first = b.fresh(1001, 0.25);
    expect(Array.from(first)).toEqual(Array.from(a.fill(1001, 0.25)));
    const second = b.fresh(1001, 0.25);
    expect(second).not.toBe(first);
    expect(Array.from(second)).toEqual(Array.from(a.fill(1001, 0.25)));
  });

  it('draws neighbouring values independently (no correlation between adjacent bytes)', () => {
    const m = new DropoutMasks(9).fill(100_000, 0.5);
    let both = 0;
    for (let i = 0; i + 1 < m.length; i += 2) if (m[i] === 0 && m[i + 1] === 0) both++;
    expect(Math.abs(both / 50_000 - 0.25)).toBeLessThan(0.01);
  });
});

describe('maskTensor', () => {
  // the unit project checks the cpu backend, unit-native native TensorFlow (both keep a reference to
  // a tensor's array; tfjs-node reads it only when an op first uses the tensor)
  beforeAll(async () => {
    if (testBackend === 'tensorflow') await selectBackend('tensorflow');
    else await tf.setBackend('cpu');
  });

  it('gives each mask tensor its own values: a later draw does not change an earlier unread mask', async () => {
    const g = new DropoutMasks(21);
    const a = maskTensor(g, [8, 50], 0.25);
    const b = maskTensor(g, [8, 20], 0.5);
    const ref = new DropoutMasks(21);
    const expectA = Array.from(ref.fill(400, 0.25));
    const expectB = Array.from(ref.fill(160, 0.5));
    // read through an op first, as training does (tfjs-node copies the array at that moment)
    const a2 = tf.mul(a, 1);
    expect(Array.from(await a2.data())).toEqual(expectA);
    expect(Array.from(await b.data())).toEqual(expectB);
    expect(a.shape).toEqual([8, 50]);
    tf.dispose([a, b, a2]);
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
