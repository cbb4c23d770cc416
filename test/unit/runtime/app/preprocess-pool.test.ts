import { isRuntimeError } from '../../../../runtime/errors.js';
import { preprocessImage } from '../../../../runtime/preprocess/index.js';
import { PreprocessPool, preprocessor } from '../../../../runtime/app/preprocess-pool.js';
import { encodeDigit, mnistDigit, pngClaiming } from '../../../support/images.js';

let pool: PreprocessPool;
beforeAll(() => {
  pool = new PreprocessPool(2);
});
afterAll(() => pool.close());

describe('PreprocessPool', () => {
  it('computes in worker threads exactly what preprocessImage computes on the main thread', async () => {
    const images = await Promise.all([3, 4, 5, 6].map((i) => encodeDigit(mnistDigit(i).pixels, { format: 'png', invert: true, scale: 4 })));
    const inPool = await Promise.all(images.map((b) => pool.run(b, { maxInputPixels: 1e7 })));
    for (const [i, b] of images.entries()) {
      const here = await preprocessImage(b, { maxInputPixels: 1e7 });
      expect(Array.from(inPool[i].pixels)).toEqual(Array.from(here.pixels));
      expect(inPool[i].facts).toEqual(here.facts);
    }
  });

  it('brings refusals back as RuntimeErrors with their code and details', async () => {
    const bmp = await pool.run(Buffer.concat([Buffer.from('BM'), Buffer.alloc(64)]), { maxInputPixels: 1e7 }).catch((e: unknown) => e);
    expect(isRuntimeError(bmp) && bmp.code).toBe('unsupported_media_type');
    const bomb = await pool.run(pngClaiming(20_000, 20_000), { maxInputPixels: 1e6 }).catch((e: unknown) => e);
    expect(isRuntimeError(bomb) && bomb.code).toBe('image_too_large');
  });

  it('falls back to the calling thread with zero workers', () => {
    expect(preprocessor(undefined)).toBe(preprocessImage);
    expect(preprocessor(pool)).not.toBe(preprocessImage);
  });
});
