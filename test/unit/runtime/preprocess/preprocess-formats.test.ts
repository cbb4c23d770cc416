import { describe, expect, it } from '@jest/globals';
import sharp from 'sharp';
import { preprocessImage } from '../../../../runtime/preprocess/index.js';
import { correlation, encodeDigit, mnistDigit, type EncodeOptions } from '../../../support/images.js';

const limits = { maxInputPixels: 40_000_000 };
const digit = mnistDigit(23); // a held-out 3

/** Through the pipeline; returns the output and its correlation with the clean original. */
async function run(opts: EncodeOptions, d = digit) {
  const result = await preprocessImage(await encodeDigit(d.pixels, opts), limits);
  expect(result.pixels).toHaveLength(784);
  for (const v of result.pixels) {
    expect(v).toBeGreaterThanOrEqual(0);
    expect(v).toBeLessThanOrEqual(1);
  }
  return { ...result, corr: correlation(result.pixels, d.pixels) };
}

describe('preprocessImage: every accepted format, decoded to MNIST form', () => {
  it.each<[string, EncodeOptions, string]>([
    ['PNG', { format: 'png' }, 'png'],
    ['grey PNG', { format: 'png', grey: true }, 'png'],
    ['16-bit PNG', { format: 'png16' }, 'png'],
    ['16-bit grey PNG', { format: 'png16', grey: true }, 'png'],
    ['JPEG', { format: 'jpeg', scale: 4 }, 'jpeg'],
    ['CMYK JPEG', { format: 'jpeg-cmyk', scale: 4 }, 'jpeg'],
    ['WebP', { format: 'webp', scale: 4 }, 'webp'],
    ['GIF', { format: 'gif' }, 'gif'],
    ['TIFF', { format: 'tiff' }, 'tiff'],
    ['AVIF', { format: 'avif', scale: 4, quality: 80 }, 'avif'],
  ])('%s', async (_name, opts, format) => {
    const r = await run(opts);
    expect(r.facts.format).toBe(format);
    expect(r.facts.inverted).toBe(false);
    expect(r.corr).toBeGreaterThan(0.9);
  });

  it('CMYK JPEG really is CMYK on the wire', async () => {
    const bytes = await encodeDigit(digit.pixels, { format: 'jpeg-cmyk', scale: 4 });
    expect((await sharp(bytes).metadata()).space).toBe('cmyk');
  });

  it('16-bit PNG really is 16-bit on the wire', async () => {
    const bytes = await encodeDigit(digit.pixels, { format: 'png16' });
    expect((await sharp(bytes).metadata()).depth).toBe('ushort');
  });
});

describe('preprocessImage: ink on paper, colour, alpha, orientation, placement', () => {
  it('inverts dark ink on white paper', async () => {
    const r = await run({ invert: true, scale: 8, format: 'png' });
    expect(r.facts.inverted).toBe(true);
    expect(r.corr).toBeGreaterThan(0.9);
  });

  it('reads dark ink on a transparent canvas (alpha is the ink)', async () => {
    const r = await run({ transparent: true, colour: { r: 0, g: 0, b: 0 }, scale: 6 });
    expect(r.facts.hadAlpha).toBe(true);
    expect(r.corr).toBeGreaterThan(0.9);
  });

  it('reads white ink on a transparent canvas', async () => {
    const r = await run({ transparent: true, colour: { r: 255, g: 255, b: 255 }, scale: 6 });
    expect(r.corr).toBeGreaterThan(0.9);
  });

  it('reads grey+alpha PNGs', async () => {
    const r = await run({ transparent: true, grey: true, colour: { r: 20, g: 20, b: 20 }, scale: 3 });
    expect(r.corr).toBeGreaterThan(0.9);
  });

  it('reads blue pen on cream paper', async () => {
    const r = await run({
      invert: true,
      scale: 12,
      colour: { r: 30, g: 50, b: 170 },
      paper: { r: 245, g: 238, b: 220 },
      format: 'jpeg',
    });
    expect(r.facts.inverted).toBe(true);
    expect(r.corr).toBeGreaterThan(0.9);
  });

  it.each([3, 6, 8] as const)('applies EXIF orientation %i before anything else', async (orientation) => {
    const opts: EncodeOptions = { invert: true, scale: 6, canvas: { width: 300, height: 200 }, orientation, format: 'jpeg' };
    const stored = await sharp(await encodeDigit(digit.pixels, opts)).metadata();
    expect(stored).toMatchObject(orientation === 3 ? { width: 300, height: 200, orientation } : { width: 200, height: 300, orientation });
    const r = await run(opts);
    expect(r.facts).toMatchObject({ width: 300, height: 200 });
    expect(r.corr).toBeGreaterThan(0.9);
  });

  it('finds an off-centre digit on a wide canvas with margins', async () => {
    const r = await run({ invert: true, scale: 5, canvas: { width: 1200, height: 400 }, offset: { x: 900, y: 30 } });
    expect(r.corr).toBeGreaterThan(0.9);
  });

  it('reads a large phone-like photo: 2000×1500 JPEG, lighting gradient, noise', async () => {
    const r = await run({
      invert: true,
      scale: 30,
      canvas: { width: 2000, height: 1500 },
      offset: { x: 300, y: 250 },
      noise: 0.03,
      gradient: 0.45,
      format: 'jpeg',
      quality: 85,
    });
    expect(r.facts).toMatchObject({ width: 2000, height: 1500, inverted: true });
    expect(r.corr).toBeGreaterThan(0.85);
  });

  it('takes an object filling most of the frame for content, not for a blank page', async () => {
    // a garment-like blob over ~70% of the frame, bright on dark (as Fashion-MNIST) and dark on paper
    for (const [size, onPaper] of [[28, false], [600, true]] as const) {
      const raw = Buffer.alloc(size * size, onPaper ? 235 : 0);
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          const u = (x + 0.5) / size - 0.5;
          const v = (y + 0.5) / size - 0.5;
          if ((u / 0.47) ** 2 + (v / 0.47) ** 2 <= 1) raw[y * size + x] = onPaper ? 40 : 200;
        }
      }
      const png = await sharp(raw, { raw: { width: size, height: size, channels: 1 } }).png().toBuffer();
      const r = await preprocessImage(png, limits);
      expect(r.facts.inkFraction).toBeGreaterThan(0.3);
      expect(r.facts.inverted).toBe(onPaper);
    }
  });

  it('drops specks far from the digit', async () => {
    const pixels = Float32Array.from(digit.pixels);
    const clean = await preprocessImage(await encodeDigit(pixels, { invert: true, scale: 10 }), limits);
    // a blot in the corner of a 280 px page, well away from the digit
    const bytes = await encodeDigit(pixels, { invert: true, scale: 10, canvas: { width: 500, height: 500 }, offset: { x: 100, y: 100 } });
    const page = await sharp(bytes)
      .composite([{ input: { create: { width: 12, height: 12, channels: 3, background: '#000' } }, left: 470, top: 470 }])
      .png()
      .toBuffer();
    const r = await preprocessImage(page, limits);
    expect(r.facts.blobs).toBeGreaterThan(r.facts.components);
    expect(correlation(r.pixels, clean.pixels)).toBeGreaterThan(0.95);
  });
});

describe('preprocessImage: MNIST form', () => {
  it('leaves held-out MNIST digits given as 28×28 PNGs nearly unchanged (correlation > 0.95)', async () => {
    const corrs: number[] = [];
    for (let i = 0; i < 200; i++) {
      const d = mnistDigit(i);
      const r = await preprocessImage(await encodeDigit(d.pixels, { format: 'png' }), limits);
      corrs.push(correlation(r.pixels, d.pixels));
    }
    expect(Math.min(...corrs)).toBeGreaterThan(0.95);
  });

  it('keeps bold digits that fill their frame when drawn large (held-out 0s and 8s at 2× and 4×)', async () => {
    // these came out as blank pages when the lighting fit took the strokes for paper
    for (const i of [0, 10, 20, 148]) {
      const d = mnistDigit(i);
      for (const scale of [2, 4]) {
        const r = await preprocessImage(await encodeDigit(d.pixels, { format: 'png', scale }), limits);
        expect(r.facts.inkFraction).toBeGreaterThan(0.05);
        expect(correlation(r.pixels, d.pixels)).toBeGreaterThan(0.8);
      }
    }
  });

  it('puts the digit in a 20-px box with its centre of mass at MNIST’s (14, 14)', async () => {
    const r = await preprocessImage(
      await encodeDigit(digit.pixels, { invert: true, scale: 9, canvas: { width: 600, height: 400 }, offset: { x: 10, y: 10 } }),
      limits,
    );
    let x0 = 28, x1 = -1, y0 = 28, y1 = -1, m = 0, sx = 0, sy = 0;
    r.pixels.forEach((v, i) => {
      if (v <= 0) return;
      const x = i % 28;
      const y = Math.floor(i / 28);
      [x0, x1, y0, y1] = [Math.min(x0, x), Math.max(x1, x), Math.min(y0, y), Math.max(y1, y)];
      m += v;
      sx += v * x;
      sy += v * y;
    });
    expect(Math.max(x1 - x0 + 1, y1 - y0 + 1)).toBeLessThanOrEqual(21);
    expect(Math.max(x1 - x0 + 1, y1 - y0 + 1)).toBeGreaterThanOrEqual(19);
    expect(Math.abs(sx / m - 14)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(sy / m - 14)).toBeLessThanOrEqual(0.5);
    expect(Math.max(...r.pixels)).toBe(1);
  });
});

describe('preprocessImage: no ink', () => {
  it.each<[string, EncodeOptions]>([
    ['a white page', { invert: true, scale: 10 }],
    ['a black page', { scale: 10 }],
    ['a noisy grey photo of an empty page', { invert: true, scale: 20, paper: { r: 200, g: 200, b: 195 }, noise: 0.04, gradient: 0.3, format: 'jpeg' }],
  ])('%s comes back all zero with inkFraction 0', async (_name, opts) => {
    const r = await preprocessImage(await encodeDigit(new Float32Array(784), opts), limits);
    expect(r.facts.inkFraction).toBe(0);
    expect(r.pixels.every((v) => v === 0)).toBe(true);
  });

  it('a fully transparent PNG is a blank page', async () => {
    const bytes = await sharp({ create: { width: 64, height: 64, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
      .png()
      .toBuffer();
    const r = await preprocessImage(bytes, limits);
    expect(r.facts.inkFraction).toBe(0);
    expect(r.pixels.every((v) => v === 0)).toBe(true);
  });
});
