import { describe, expect, it } from '@jest/globals';
import { decodeImage, toMnistForm } from '../../../../runtime/preprocess/index.js';
import type { DecodedImage } from '../../../../runtime/preprocess/decode.js';
import { flattenAlpha } from '../../../../runtime/preprocess/flatten-alpha.js';
import { encodeDigit, mnistDigit } from '../../../support/images.js';

const limits = { maxInputPixels: 40_000_000 };

/** The same working image with only its first channel: a true one-channel grey image. */
function firstChannel(img: DecodedImage): DecodedImage {
  const n = img.workWidth * img.workHeight;
  const data = Buffer.alloc(n);
  for (let i = 0; i < n; i++) data[i] = img.data[i * img.channels];
  return { ...img, data, channels: 1, hasAlpha: false };
}

describe('flattenAlpha: grey pictures stored as RGB', () => {
  it('keeps an RGB image with equal channels as one plane, and it preprocesses exactly as the one-channel image', async () => {
    // grey ink on grey paper with a lighting gradient and noise (every step has work to do), as
    // a one-channel PNG, which sharp decodes to sRGB
    const bytes = await encodeDigit(mnistDigit(7).pixels, {
      invert: true,
      scale: 5,
      canvas: { width: 200, height: 170 },
      paper: { r: 220, g: 220, b: 220 },
      colour: { r: 40, g: 40, b: 40 },
      gradient: 0.3,
      noise: 0.03,
      grey: true,
      format: 'png',
    });
    const rgb = await decodeImage(bytes, limits);
    expect(rgb.channels).toBe(3);
    expect(flattenAlpha(rgb).planes.planes).toHaveLength(1);
    const grey = firstChannel(rgb);
    const a = toMnistForm(rgb);
    const b = toMnistForm(grey);
    expect(a.facts).toEqual(b.facts);
    expect(Array.from(a.pixels)).toEqual(Array.from(b.pixels));
    expect(a.facts.inkFraction).toBeGreaterThan(0);
  });

  it('keeps three planes when any pixel has colour', async () => {
    const bytes = await encodeDigit(mnistDigit(7).pixels, { invert: true, scale: 3, colour: { r: 30, g: 50, b: 170 }, format: 'png' });
    expect(flattenAlpha(await decodeImage(bytes, limits)).planes.planes).toHaveLength(3);
  });
});
