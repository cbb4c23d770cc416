import { describe, expect, it } from '@jest/globals';
import { flattenAlpha, UNIT } from '../../../../runtime/preprocess/flatten-alpha.js';
import { inkSignal } from '../../../../runtime/preprocess/ink-signal.js';
import { backgroundPlane, estimateBackground } from '../../../../runtime/preprocess/lighting.js';
import { luminance } from '../../../../runtime/preprocess/luminance.js';
import { detectPolarity, detectPolarityOfPlanes } from '../../../../runtime/preprocess/polarity.js';
import type { Planes } from '../../../../runtime/preprocess/types.js';
import { seededRandom } from '../../../support/images.js';

// The steps written for speed (a background given row by row, the strongest channel picked without
// a branch, polarity without a stored luma plane) against the plain formulas they replaced: the
// results must be the same bits, ties and shadows included.

const MIN_PAPER = 0.2;

/** 8-bit levels as the decoder gives them, with runs of equal values (ties between channels). */
function planes(width: number, height: number, count: number, seed: number): Planes {
  const random = seededRandom(seed);
  const grey = Array.from({ length: width * height }, () => Math.floor(random() * 256));
  return {
    width,
    height,
    planes: Array.from({ length: count }, () =>
      Float32Array.from(grey, (g) => (random() < 0.3 ? g : Math.min(255, Math.max(0, g + Math.floor(random() * 9) - 4))) / 255),
    ),
  };
}

/** The plain form: each channel's signal, the largest kept by comparing against the stored value. */
function plainInkSignal(img: Planes, bg: Float32Array[], bright: boolean): Float32Array {
  const out = new Float32Array(img.width * img.height);
  img.planes.forEach((plane, c) => {
    for (let i = 0; i < out.length; i++) {
      const b = bg[c][i];
      const t = bright ? (b - plane[i]) / Math.max(b, MIN_PAPER) : plane[i] - b;
      if (c === 0 || t > out[i]) out[i] = t;
    }
  });
  return out;
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

describe('preprocessing steps fused for speed', () => {
  it.each([
    [3, true, 160, 120],
    [3, false, 160, 120],
    [1, true, 90, 70],
    [1, false, 90, 70],
    [3, true, 30, 20], // below the surface's minimum size: a flat background
  ])('inkSignal of %i plane(s), bright background %s, %i×%i: the same bits as the plain per-channel maximum', (count, bright, width, height) => {
    const img = planes(width, height, count, 7 + count);
    const bg = estimateBackground(img, bright);
    const stored = bg.map((b) => backgroundPlane(b, width, height));
    expect(stored[0].some((v) => v > 0 && v < 1)).toBe(true);
    expect(sameBits(inkSignal(img, bg, bright).data, plainInkSignal(img, stored, bright))).toBe(true);
  });

  it.each([
    [3, 3],
    [3, 4],
    [1, 3], // a grey picture stored as RGB: one plane, the first of three channels
    [1, 2],
  ])('the background from %i plane(s) binned from the 8-bit samples (%i channels) is the one binned from the float planes', (count, channels) => {
    const width = 150;
    const height = 110;
    const random = seededRandom(count * 10 + channels);
    // paper with a lighting gradient and a dark blob, so the surface has something to fit
    const data = Uint8Array.from({ length: width * height * channels }, (_, j) => {
      const i = Math.floor(j / channels);
      const x = i % width;
      const y = Math.floor(i / width);
      const ink = Math.hypot(x - 70, y - 50) < 20 ? 150 : 0;
      return Math.max(0, Math.min(255, Math.round(230 - 0.4 * x - 0.2 * y - ink + 12 * (random() - 0.5))));
    });
    const planes = Array.from({ length: count }, (_, c) => Float32Array.from({ length: width * height }, (_, i) => UNIT[data[i * channels + c]]));
    for (const bright of [true, false]) {
      const fromBytes = estimateBackground({ width, height, planes, samples: { data, channels } }, bright);
      const fromFloats = estimateBackground({ width, height, planes }, bright);
      for (let c = 0; c < count; c++) {
        expect(sameBits(backgroundPlane(fromBytes[c], width, height), backgroundPlane(fromFloats[c], width, height))).toBe(true);
      }
    }
  });

  it('flattenAlpha turns every 8-bit sample into the float32 value UNIT holds for it (k / 255)', () => {
    const data = Buffer.from(Array.from({ length: 256 * 3 }, (_, j) => (j % 3 === 0 ? j / 3 : (j / 3 + 7 * (j % 3)) % 256) | 0));
    const { planes } = flattenAlpha({ format: 'png', width: 256, height: 1, data, workWidth: 256, workHeight: 1, channels: 3, hasAlpha: false });
    expect(planes.planes).toHaveLength(3);
    planes.planes.forEach((plane, c) => plane.forEach((v, i) => expect(Object.is(v, UNIT[data[i * 3 + c]])).toBe(true)));
  });

  it('polarity of colour planes is the polarity of their stored luma', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const img = planes(64, 48, 3, seed);
      expect(detectPolarityOfPlanes(img)).toEqual(detectPolarity(luminance(img)));
    }
  });
});
