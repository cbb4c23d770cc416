import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { RuntimeError } from '../../../../runtime/errors.js';
import { preprocessImage } from '../../../../runtime/preprocess/index.js';
import { encodeDigit, mnistDigit, type EncodeFormat } from '../../../support/images.js';

const limits = { maxInputPixels: 1_000_000 };

/** Either a result of the promised shape or a RuntimeError; anything else fails the property. */
async function survives(bytes: Uint8Array): Promise<boolean> {
  try {
    const r = await preprocessImage(Buffer.from(bytes), limits);
    return r.pixels.length === 784 && r.pixels.every((v) => v >= 0 && v <= 1 && Number.isFinite(v));
  } catch (e) {
    if (e instanceof RuntimeError) return true;
    throw e;
  }
}

const formats: EncodeFormat[] = ['png', 'jpeg', 'webp', 'gif', 'tiff', 'avif'];

describe('preprocessImage never crashes', () => {
  it('on arbitrary byte strings', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), survives), { numRuns: 300 });
  });

  it('on arbitrary bytes behind each accepted signature', async () => {
    const signatures = [
      [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
      [0xff, 0xd8, 0xff],
      [...Buffer.from('GIF89a')],
      [...Buffer.from('RIFF\0\0\0\0WEBP')],
      [...Buffer.from('II*\0')],
      [0, 0, 0, 0x1c, ...Buffer.from('ftypavif')],
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...signatures), fc.uint8Array({ maxLength: 1024 }), (sig, rest) =>
        survives(Uint8Array.from([...sig, ...rest])),
      ),
      { numRuns: 300 },
    );
  });

  it('on real images with bytes flipped, cut or spliced', async () => {
    const seeds = await Promise.all(
      formats.map((format) => encodeDigit(mnistDigit(3).pixels, { format, scale: 2, invert: true, noise: 0.05 })),
    );
    const mutation = fc.record({
      seed: fc.nat(seeds.length - 1),
      flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 12 }),
      cut: fc.option(fc.nat()),
    });
    await fc.assert(
      fc.asyncProperty(mutation, ({ seed, flips, cut }) => {
        const bytes = Buffer.from(seeds[seed]);
        for (const [at, x] of flips) bytes[at % bytes.length] ^= x;
        return survives(cut === null ? bytes : bytes.subarray(0, cut % (bytes.length + 1)));
      }),
      { numRuns: 300 },
    );
  });

  it('answers in kind: a refused input says why with a code and a message', async () => {
    const e = await preprocessImage(Buffer.from('GIF89a'), limits).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(RuntimeError);
    expect((e as RuntimeError).code).toBe('invalid_image');
  });
});
