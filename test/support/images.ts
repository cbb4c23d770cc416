import { deflateSync } from 'node:zlib';
import sharp, { type SharpOptions } from 'sharp';
import { heldOutDigit, type Digit } from '../../hack/data/mnist-digits.js';
import { seededRandom } from '../../hack/data/render-digit.js';

// local aliases: hot loops run much faster without a global lookup (notably under jest's vm)
const { min, round, sqrt } = Math;

/**
 * Real encoded images made from real MNIST digits, for the preprocessing, server and reliability
 * tests and the phone-photo evaluation. Everything is deterministic (seeded noise).
 */

export type { Digit } from '../../hack/data/mnist-digits.js';
export { heldOutDigits, mnistSample } from '../../hack/data/mnist-digits.js';
export { encodeDigit, seededRandom, type EncodeFormat, type EncodeOptions, type Rgb } from '../../hack/data/render-digit.js';

/** The index-th held-out MNIST digit; its label is index % 10. */
export function mnistDigit(index: number): Digit {
  return heldOutDigit(index);
}

/** An animated GIF with `frames` frames, the first showing the digit, the rest noise. */
export async function animatedGif(pixels: Float32Array, frames: number): Promise<Buffer> {
  const random = seededRandom(7);
  const frame = Buffer.alloc(28 * 28 * 3);
  const all = Buffer.alloc(28 * 28 * 3 * frames);
  for (let f = 0; f < frames; f++) {
    for (let i = 0; i < 28 * 28; i++) {
      const v = f === 0 ? round(255 * pixels[i]) : round(255 * random());
      frame[3 * i] = frame[3 * i + 1] = frame[3 * i + 2] = v;
    }
    frame.copy(all, f * frame.length);
  }
  return sharp(all, { raw: { width: 28, height: 28 * frames, channels: 3, pageHeight: 28 } } as SharpOptions)
    .gif({ delay: new Array<number>(frames).fill(40) })
    .toBuffer();
}

function crc32(bytes: Buffer): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/**
 * A small, well-formed PNG whose header claims width × height 8-bit grey pixels while carrying
 * only a few rows of data: a decompression bomb's shape, harmless to build.
 */
export function pngClaiming(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // grey
  const rows = Buffer.alloc(min(4, height) * (width + 1));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(rows)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Pearson correlation of two equal-length arrays. */
export function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return saa > 0 && sbb > 0 ? sab / sqrt(saa * sbb) : 0;
}

/**
 * A side × side (default 6000 × 6000 = 36 megapixels) grey PNG of a dark bar on white: cheap to
 * send (it compresses to ~160 kB) and costly to decode — the deadline tests' slow image.
 */
export async function bigPng(side = 6000): Promise<Buffer> {
  const bar = await sharp({ create: { width: Math.round(side / 10), height: Math.round(side / 2), channels: 3, background: '#000' } }).png().toBuffer();
  return sharp({ create: { width: side, height: side, channels: 3, background: '#fff' } })
    .composite([{ input: bar, left: Math.round(side * 0.45), top: Math.round(side / 4) }])
    .greyscale()
    .png({ compressionLevel: 9 })
    .toBuffer();
}
