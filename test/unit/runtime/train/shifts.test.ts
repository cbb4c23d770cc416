import { preprocessImage } from '../../../../runtime/preprocess/index.js';
import { affine, boxDown, FIT_SHIFT_KINDS, gaussianBlur, morph3, SHIFT_KINDS, SHIFTS, shiftedImage, shiftedSet } from '../../../../runtime/train/shifts.js';

/** A 28×28 "digit": a 3-px vertical bar with a 3-px horizontal bar on top (a 7-ish shape). */
function digit(): Float32Array {
  const img = new Float32Array(784);
  for (let y = 6; y < 22; y++) for (let x = 13; x < 16; x++) img[y * 28 + x] = 1;
  for (let y = 6; y < 9; y++) for (let x = 8; x < 18; x++) img[y * 28 + x] = 1;
  return img;
}
const sum = (a: ArrayLike<number>): number => Array.from(a).reduce((s, v) => s + v, 0);

describe('shift kinds', () => {
  it('fits the mapping on at most half of the kinds (a)–(f)', () => {
    expect(Object.keys(SHIFT_KINDS)).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(FIT_SHIFT_KINDS.length).toBeLessThanOrEqual(3);
    for (const k of Object.keys(SHIFT_KINDS)) expect(SHIFTS.some((s) => s.kind === k)).toBe(true);
  });

  it('boxDown averages areas exactly: a constant image stays constant, the mass is kept', () => {
    const c = new Float32Array(784).fill(0.5);
    for (const s of [8, 12]) for (const v of boxDown(c, 0, s)) expect(v).toBeCloseTo(0.5, 5);
    const d = digit();
    expect(sum(boxDown(d, 0, 8)) * (28 / 8) ** 2).toBeCloseTo(sum(d), 3);
  });

  it('erosion thins and dilation thickens the strokes by one pixel', () => {
    const d = digit();
    const e = morph3(d, 0, false);
    const g = morph3(d, 0, true);
    expect(sum(e)).toBeLessThan(sum(d));
    expect(sum(g)).toBeGreaterThan(sum(d));
    // the 3-px bar becomes 1 px wide at row 15, and 5 px after dilation
    expect(Array.from(e.subarray(15 * 28, 16 * 28)).filter((v) => v > 0).length).toBe(1);
    expect(Array.from(g.subarray(15 * 28, 16 * 28)).filter((v) => v > 0).length).toBe(5);
  });

  it('the Gaussian blur keeps the mass of an interior image and spreads it', () => {
    const d = digit();
    const b = gaussianBlur(d, 0, 1);
    expect(sum(b)).toBeCloseTo(sum(d), 2);
    expect(Math.max(...b)).toBeLessThan(1);
    expect(b[15 * 28 + 12]).toBeGreaterThan(0.1);
  });

  it('the identity warp returns the image; a 20° rotation moves ink but keeps most of it', () => {
    const d = digit();
    expect(Array.from(affine(d, 0, [1, 0, 0, 1]))).toEqual(Array.from(d));
    const t = (20 * Math.PI) / 180;
    const r = affine(d, 0, [Math.cos(t), Math.sin(t), -Math.sin(t), Math.cos(t)]);
    expect(sum(r)).toBeGreaterThan(0.9 * sum(d));
    expect(Array.from(r)).not.toEqual(Array.from(d));
  });

  it('every variant encodes an image the preprocessing reads as a non-blank digit, the same bytes each time', async () => {
    const set = { x: Float32Array.from([...digit(), ...digit()]), y: Int32Array.from([7, 7]), n: 2 };
    for (const s of SHIFTS) {
      const a = await shiftedImage(s, set, 1);
      expect(Buffer.compare(a, await shiftedImage(s, set, 1))).toBe(0);
      const { facts } = await preprocessImage(a, { maxInputPixels: 40_000_000 });
      expect(facts.inkFraction).toBeGreaterThan(0);
    }
    const jpeg = await shiftedImage(SHIFTS.find((s) => s.name === 'jpeg15')!, set, 0);
    expect(jpeg.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
    const out = await shiftedSet(SHIFTS[0], set);
    expect(out.n).toBe(2);
    expect(Array.from(out.y)).toEqual([7, 7]);
  });
});
