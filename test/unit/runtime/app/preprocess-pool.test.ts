import sharp from 'sharp';
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

  it('moves handed-over bytes to the worker instead of copying them, with the same result, and reports where the time went', async () => {
    const jpeg = await encodeDigit(mnistDigit(7).pixels, { format: 'jpeg', invert: true, scale: 20 });
    const own = Buffer.alloc(jpeg.length); // a body read whole: a Buffer that is all of its memory
    jpeg.copy(own);
    const slice = Buffer.concat([Buffer.alloc(16), jpeg]).subarray(16); // part of a larger body: never moved
    const before = Date.now();
    const [moved, copied, kept] = await Promise.all([pool.run(own, { maxInputPixels: 1e7 }, undefined, true), pool.run(jpeg, { maxInputPixels: 1e7 }), pool.run(slice, { maxInputPixels: 1e7 }, undefined, true)]);
    expect(own.byteLength).toBe(0); // its memory is the worker's now
    expect(slice.byteLength).toBe(jpeg.length);
    const here = await preprocessImage(jpeg, { maxInputPixels: 1e7 });
    for (const r of [moved, copied, kept]) {
      expect(Array.from(r.pixels)).toEqual(Array.from(here.pixels));
      expect(r.facts).toEqual(here.facts);
    }
    // the marks are in order on the clock every thread shares
    const t = moved.timing!;
    const marks = [t.queued, t.posted, t.received, t.decoded, t.done, t.replied];
    expect(marks).toEqual([...marks].sort((a, b) => a - b));
    expect(t.queued).toBeGreaterThanOrEqual(before - 1);
  });

  it('brings refusals back as RuntimeErrors with their code and details', async () => {
    const bmp = await pool.run(Buffer.concat([Buffer.from('BM'), Buffer.alloc(64)]), { maxInputPixels: 1e7 }).catch((e: unknown) => e);
    expect(isRuntimeError(bmp) && bmp.code).toBe('unsupported_media_type');
    const bomb = await pool.run(pngClaiming(20_000, 20_000), { maxInputPixels: 1e6 }).catch((e: unknown) => e);
    expect(isRuntimeError(bomb) && bomb.code).toBe('image_too_large');
  });

  it('falls back to the calling thread with zero workers, and decodes nothing for a request past its deadline', async () => {
    const png = await encodeDigit(mnistDigit(2).pixels, { format: 'png', invert: true, scale: 4 });
    const outcomes: string[] = [];
    const here = preprocessor(undefined, (o) => outcomes.push(o));
    expect(Array.from((await here(png, { maxInputPixels: 1e7 })).pixels)).toEqual(Array.from((await preprocessImage(png, { maxInputPixels: 1e7 })).pixels));
    const dead = AbortSignal.abort(new Error('past its deadline'));
    await expect(here(png, { maxInputPixels: 1e7 }, dead)).rejects.toThrow('past its deadline');
    expect(outcomes).toEqual(['done', 'cancelled']);
  });

  it('drops queued work whose deadline passed without decoding it (#15 item 8)', async () => {
    const one = new PreprocessPool(1);
    const outcomes: string[] = [];
    one.observe((o) => outcomes.push(o));
    try {
      const png = await encodeDigit(mnistDigit(5).pixels, { format: 'png', invert: true, scale: 4 });
      const deadline = new AbortController();
      // the first task occupies the only worker; the other three wait in the pool's queue
      const runs = [0, 1, 2, 3].map(() => one.run(png, { maxInputPixels: 1e7 }, deadline.signal).then(() => 'done', (e: Error) => e.message));
      expect(one.queued).toBe(3);
      deadline.abort(new Error('deadline passed'));
      expect(one.queued).toBe(0);
      expect(await Promise.all(runs)).toEqual(['done', 'deadline passed', 'deadline passed', 'deadline passed']);
      expect(outcomes.sort()).toEqual(['cancelled', 'cancelled', 'cancelled', 'done']);
      // the worker serves the next task as usual
      await expect(one.run(png, { maxInputPixels: 1e7 })).resolves.toMatchObject({ facts: { format: 'png' } });
    } finally {
      await one.close();
    }
  });

  it('bounds the process-wide libvips operation cache once its workers loaded sharp, which resets it (LIBVIPS_CACHE_MB)', async () => {
    const png = await encodeDigit(mnistDigit(8).pixels, { format: 'png', invert: true, scale: 4 });
    for (const mb of [0, 8]) {
      const bounded = new PreprocessPool(1, undefined, { libvipsCacheMb: mb });
      try {
        await bounded.run(png, { maxInputPixels: 1e7 });
        // worker threads share the process's libvips: this thread sees the bound the worker set
        expect(sharp.cache().memory.max).toBe(mb);
      } finally {
        await bounded.close();
      }
    }
  }, 120_000);
});
