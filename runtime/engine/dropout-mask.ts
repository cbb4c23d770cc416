import { Sfc32 } from './prng.js';

/**
 * Drop probability as used by the masks: `rate` rounded to a multiple of 1/256, because each
 * 32-bit random number yields four 8-bit draws (4× fewer PRNG calls than one draw per value).
 */
export function effectiveRate(rate: number): number {
  if (!(rate >= 0 && rate < 1)) throw new RangeError(`dropout rate must be in [0, 1), got ${rate}`);
  return Math.round(rate * 256) / 256;
}

/**
 * Fills inverted-dropout masks: each value is 0 with probability `effectiveRate(rate)`, else
 * 1 / (1 − effectiveRate(rate)), so the expected value is 1 as in tfjs' training-mode Dropout.
 * Generated in JS into a reused buffer because tfjs' own random ops are slow on wasm.
 */
export class DropoutMasks {
  private buf = new Float32Array(0);
  private readonly rng: Sfc32;

  constructor(seed: number) {
    this.rng = new Sfc32(seed);
  }

  /** The mask generator's state, and continuing from one (a resumed training's masks). */
  state(): [number, number, number, number] {
    return this.rng.state();
  }

  restore(s: readonly number[]): void {
    this.rng.restore(s);
  }

  /** Returns a view of `length` fresh mask values; valid until the next call. */
  fill(length: number, rate: number): Float32Array {
    if (this.buf.length < length) this.buf = new Float32Array(Math.max(length, this.buf.length * 2));
    const out = this.buf.subarray(0, length);
    const p = effectiveRate(rate);
    if (p === 0) {
      out.fill(1);
      return out;
    }
    const threshold = Math.round(p * 256);
    const keep = 1 / (1 - p);
    let i = 0;
    const whole = length & ~3;
    while (i < whole) {
      const r = this.rng.nextUint32();
      out[i++] = (r & 255) < threshold ? 0 : keep;
      out[i++] = ((r >>> 8) & 255) < threshold ? 0 : keep;
      out[i++] = ((r >>> 16) & 255) < threshold ? 0 : keep;
      out[i++] = (r >>> 24) < threshold ? 0 : keep;
    }
    if (i < length) {
      let r = this.rng.nextUint32();
      for (; i < length; i++, r >>>= 8) out[i] = (r & 255) < threshold ? 0 : keep;
    }
    return out;
  }
}
