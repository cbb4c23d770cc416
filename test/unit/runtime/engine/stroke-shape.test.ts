import { describe, expect, it } from '@jest/globals';
import { pixelEvidence } from '../../../../runtime/engine/pixel-evidence.js';
import { strokeShape } from '../../../../runtime/engine/stroke-shape.js';
import { mnistDigit } from '../../../support/images.js';

function image(draw: (x: number, y: number) => number): Float32Array {
  const px = new Float32Array(784);
  for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) px[y * 28 + x] = draw(x, y);
  return px;
}

describe('strokeShape', () => {
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
