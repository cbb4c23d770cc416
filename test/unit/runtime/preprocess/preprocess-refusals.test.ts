import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import sharp from 'sharp';
import { RuntimeError, type RuntimeErrorCode } from '../../../../runtime/errors.js';
import { preprocessImage } from '../../../../runtime/preprocess/index.js';
import { animatedGif, correlation, encodeDigit, mnistDigit, pngClaiming } from '../../../support/images.js';

const limits = { maxInputPixels: 4_000_000 };

async function refusal(bytes: Buffer, lim = limits): Promise<RuntimeError> {
  try {
    await preprocessImage(bytes, lim);
  } catch (e) {
    if (e instanceof RuntimeError) return e;
    throw e;
  }
  throw new Error('expected preprocessImage to refuse these bytes');
}

async function expectCode(bytes: Buffer, code: RuntimeErrorCode, lim = limits): Promise<RuntimeError> {
  const e = await refusal(bytes, lim);
  expect(e.code).toBe(code);
  expect(e.message.length).toBeGreaterThan(10);
  return e;
}

describe('preprocessImage refuses SVG without rendering it', () => {
  let server: Server;
  let hits = 0;
  let url = '';
  beforeAll(async () => {
    server = createServer((_req, res) => {
      hits++;
      res.end('<x/>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/entity`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('an SVG with external entities and an external image is 415 and fetches nothing', async () => {
    const svg = Buffer.from(
      `<?xml version="1.0"?>\n<!DOCTYPE svg [<!ENTITY xxe SYSTEM "${url}"><!ENTITY pwd SYSTEM "file:///etc/passwd">]>\n` +
        `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="28" height="28">` +
        `<text>&xxe;&pwd;</text><image xlink:href="${url}" width="28" height="28"/></svg>`,
    );
    const e = await expectCode(svg, 'unsupported_media_type');
    expect(e.details?.detected).toBe('svg');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(hits).toBe(0);
  });

  it('an SVG behind a PNG signature is refused too (the decoder must agree with the bytes)', async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="28" height="28"/>');
    const disguised = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), svg]);
    const e = await refusal(disguised);
    expect(['invalid_image', 'unsupported_media_type']).toContain(e.code);
  });
});

describe('preprocessImage refuses broken and empty input as invalid_image', () => {
  it('0 bytes', async () => {
    await expectCode(Buffer.alloc(0), 'invalid_image');
  });

  it.each(['png', 'jpeg', 'webp', 'gif', 'tiff', 'avif'] as const)('a truncated %s', async (format) => {
    const whole = await encodeDigit(mnistDigit(5).pixels, { format, scale: 6, invert: true, noise: 0.05 });
    await expectCode(whole.subarray(0, Math.floor(whole.length / 2)), 'invalid_image');
  });

  it('a PNG with its pixel data overwritten by garbage', async () => {
    const whole = await encodeDigit(mnistDigit(5).pixels, { format: 'png', scale: 4, noise: 0.1 });
    const corrupt = Buffer.from(whole);
    for (let i = 60; i < corrupt.length - 20; i += 7) corrupt[i] ^= 0x5a;
    await expectCode(corrupt, 'invalid_image');
  });

  it('just a signature', async () => {
    await expectCode(Buffer.from([0xff, 0xd8, 0xff]), 'invalid_image');
  });
});

describe('preprocessImage refuses decompression bombs before decoding', () => {
  it('a 3 KB PNG claiming 100000 × 100000 pixels is image_too_large', async () => {
    const bomb = pngClaiming(100_000, 100_000);
    expect(bomb.length).toBeLessThan(1_000_000);
    const e = await expectCode(bomb, 'image_too_large');
    expect(e.details).toMatchObject({ width: 100_000, height: 100_000, maxInputPixels: limits.maxInputPixels });
  });

  it('a real, tiny, single-colour 6000 × 6000 PNG made by sharp is image_too_large', async () => {
    const bomb = await sharp({ create: { width: 6000, height: 6000, channels: 3, background: '#fff' } })
      .png({ compressionLevel: 9 })
      .toBuffer();
    expect(bomb.length).toBeLessThan(200_000);
    await expectCode(bomb, 'image_too_large');
  });

  it('the same image is accepted under a limit that allows it (the limit is what refused it)', async () => {
    const page = await sharp({ create: { width: 3000, height: 2000, channels: 3, background: '#fff' } }).png().toBuffer();
    await expectCode(page, 'image_too_large', { maxInputPixels: 5_999_999 });
    const r = await preprocessImage(page, { maxInputPixels: 6_000_000 });
    expect(r.facts.inkFraction).toBe(0);
  });

  it('an animated GIF with 300 frames costs one frame: the first is read', async () => {
    const d = mnistDigit(7);
    const gif = await animatedGif(d.pixels, 300);
    expect((await sharp(gif).metadata()).pages).toBe(300);
    const r = await preprocessImage(gif, limits);
    expect(correlation(r.pixels, d.pixels)).toBeGreaterThan(0.95);
  });
});
