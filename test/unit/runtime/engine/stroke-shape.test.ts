import { describe, expect, it } from '@jest/globals';
import { pixelEvidence } from '../../../../runtime/engine/pixel-evidence.js';
import { strokeShape } from '../../../../runtime/engine/stroke-shape.js';
import { mnistDigit } from '../../../support/images.js';

function image(draw: (x: number, y: number) => number): Float32Array {
  const px = new Float32Array(784);
  for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) px[y * 28 + x] = draw(x, y);
  return px;
}

/** The definition, pixel by pixel, with everything outside the image as background. */
function reference(px: Float32Array, offset: number): { edgeDensity: number; interiorShare: number } {
  const at = (x: number, y: number): number => (x < 0 || y < 0 || x >= 28 || y >= 28 ? 0 : px[offset + y * 28 + x]);
  let mass = 0;
  let edges = 0;
  let ink = 0;
  let interior = 0;
  for (let y = 0; y < 28; y++)
    for (let x = 0; x < 28; x++) {
      const v = at(x, y);
      mass += v;
      if (x + 1 < 28) edges += Math.abs(v - at(x + 1, y));
      if (y + 1 < 28) edges += Math.abs(v - at(x, y + 1));
      if (v < 0.5) continue;
      ink++;
      let filled = true;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) if (at(x + dx, y + dy) < 0.5) filled = false;
      if (filled) interior++;
    }
  return { edgeDensity: mass > 0 ? edges / mass : 0, interiorShare: ink > 0 ? interior / ink : 0 };
}

describe('strokeShape', () => {
  it('equals its definition exactly, on digits and on filled images with ink on the border, at any offset', () => {
    const full = image(() => 1);
    const frame = image((x, y) => (x < 3 || y < 3 || x > 24 || y > 24 ? 1 : 0.2));
    const batch = new Float32Array(784 * 5);
    [mnistDigit(0).pixels, mnistDigit(8).pixels, full, frame, image((x, y) => ((x * 7 + y * 13) % 5) / 4)].forEach((p, i) => batch.set(p, i * 784));
    for (let i = 0; i < 5; i++) expect(strokeShape(batch, i * 784)).toEqual(reference(batch, i * 784));
    // a fully inked image: only the 26 × 26 inner pixels have all eight neighbours inside
    expect(strokeShape(full, 0).interiorShare).toBeCloseTo((26 * 26) / 784, 12);
  });

  it('tells a pen stroke from a filled area', () => {
    const stroke = strokeShape(image((x, y) => (x >= 13 && x <= 14 && y >= 4 && y < 24 ? 1 : 0)), 0); // a 2-px "1"
    const blob = strokeShape(image((x, y) => ((x - 13.5) ** 2 + (y - 13.5) ** 2 <= 100 ? 1 : 0)), 0); // a filled disc
    expect(stroke.interiorShare).toBe(0);
    expect(blob.interiorShare).toBeGreaterThan(0.7);
    expect(stroke.edgeDensity).toBeGreaterThan(2 * blob.edgeDensity);
  });

  it('reads the image at its offset in a batch, and gives zeros for a blank image', () => {
    const d = mnistDigit(4).pixels;
    const batch = new Float32Array(784 * 2);
    batch.set(d, 784);
    expect(strokeShape(batch, 784)).toEqual(strokeShape(d, 0));
    expect(strokeShape(batch, 0)).toEqual({ edgeDensity: 0, interiorShare: 0 });
  });

  it('is computed into the evidence only when a calibration uses it', () => {
    const d = mnistDigit(7).pixels;
    expect(Object.keys(pixelEvidence(d, 0, 784, ['maxProbability', 'inkFraction']))).toEqual(['inkFraction']);
    expect(Object.keys(pixelEvidence(d, 0, 784, ['edgeDensity', 'interiorShare'])).sort()).toEqual(['edgeDensity', 'inkFraction', 'interiorShare']);
  });
});
