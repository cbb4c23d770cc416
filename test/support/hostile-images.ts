import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { animatedGif, encodeDigit, mnistDigit, pngClaiming, seededRandom } from './images.js';

/** The image half of the hostile corpus: broken, bomb-shaped, huge, tiny and animated files of every accepted format. */

export const FORMATS = ['png', 'jpeg', 'webp', 'gif', 'tiff', 'avif'] as const;
type Format = (typeof FORMATS)[number];

export interface ImageSet {
  valid: Record<Format, Buffer>;
  /** A valid 28×28 digit as a JSON instance (rows of 0..1). */
  validGrid: number[][];
  truncated: Record<string, Buffer>;
  corrupt: Record<string, Buffer>;
  magicOnly: Record<string, Buffer>;
  hugeHeader: Record<string, Buffer>;
  bombs: { deflate: Buffer; pngHeader: Buffer; pngWide: Buffer; ztxt: Buffer };
  largeLegal: Buffer;
  zero: { png0x0: Buffer; png0xN: Buffer; gif0x0: Buffer };
  tiny: { png: Buffer; jpeg: Buffer; gif: Buffer };
  animated: Buffer;
  bmp: Buffer;
  garbage: Buffer;
}

export async function hostileImages(maxInputPixels: number): Promise<ImageSet> {
  const digit = mnistDigit(3).pixels;
  const valid = {} as Record<Format, Buffer>;
  for (const f of FORMATS) valid[f] = await encodeDigit(digit, { format: f, scale: 2 });
  const truncated: Record<string, Buffer> = {};
  const corrupt: Record<string, Buffer> = {};
  for (const f of FORMATS) {
    truncated[f] = valid[f].subarray(0, Math.floor(valid[f].length / 2));
    corrupt[f] = scramble(valid[f]);
  }
  const magicOnly: Record<string, Buffer> = {
    png: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    jpeg: Buffer.from([0xff, 0xd8, 0xff]),
    webp: Buffer.from('RIFF\x24\x00\x00\x00WEBPVP8 ', 'latin1'),
    gif: Buffer.from('GIF89a', 'latin1'),
    tiff: Buffer.from('II*\x00\xff\xff\xff\x7f', 'latin1'),
    avif: Buffer.from('\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf', 'latin1'),
  };
  const side = Math.min(65_000, Math.ceil(Math.sqrt(maxInputPixels)) * 4);
  const hugeHeader: Record<string, Buffer> = {
    png: pngClaiming(side, side),
    jpeg: jpegClaiming(valid.jpeg, Math.min(side, 65_500)),
    webp: webpClaiming(valid.webp, 16_383),
    gif: gifClaiming(valid.gif, 65_535),
    tiff: tiffClaiming(valid.tiff, side),
    avif: avifClaiming(valid.avif, side),
  };
  // a real decompression bomb: every row is there, all zero, so a few KB inflate past the limit
  const bombSide = Math.ceil(Math.sqrt(maxInputPixels * 1.2));
  const legalSide = Math.floor(Math.sqrt(maxInputPixels * 0.8));
  return {
    valid,
    validGrid: Array.from({ length: 28 }, (_, r) => Array.from(digit.subarray(r * 28, r * 28 + 28))),
    truncated,
    corrupt,
    magicOnly,
    hugeHeader,
    bombs: {
      deflate: zeroPng(bombSide, bombSide),
      pngHeader: pngClaiming(100_000, 100_000),
      pngWide: pngClaiming(1_000_000, 64),
      ztxt: withChunk(valid.png, 'zTXt', Buffer.concat([Buffer.from('Comment\0\0', 'latin1'), deflateSync(Buffer.alloc(16 * 1024 * 1024))])),
    },
    largeLegal: await encodeDigit(digit, { format: 'png', scale: 4, canvas: { width: legalSide, height: legalSide }, grey: true }),
    zero: { png0x0: pngClaiming(0, 0), png0xN: pngClaiming(0, 28), gif0x0: gif0x0() },
    tiny: {
      png: await sharp({ create: { width: 1, height: 1, channels: 3, background: '#fff' } }).png().toBuffer(),
      jpeg: await sharp({ create: { width: 1, height: 1, channels: 3, background: '#000' } }).jpeg().toBuffer(),
      gif: Buffer.from('47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b', 'hex'),
    },
    animated: await animatedGif(digit, 300),
    bmp: bmp1x1(),
    garbage: randomBytes(4096, 11),
  };
}

/** An SVG whose entities and image point at a local file and at `url`: must be refused (415), never parsed or fetched. */
export function svgWithExternalEntities(url: string): Buffer {
  return Buffer.from(
    `<?xml version="1.0"?>\n<!DOCTYPE svg [<!ENTITY file SYSTEM "file:///etc/passwd"><!ENTITY web SYSTEM "${url}/entity">]>\n` +
      `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="28" height="28">` +
      `<image xlink:href="${url}/image.png" width="28" height="28"/><text y="20">&file;&web;</text></svg>\n`,
  );
}

function randomBytes(n: number, seed: number): Buffer {
  const r = seededRandom(seed);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

/** The file with 64 bytes in its middle overwritten by noise (header intact). */
function scramble(b: Buffer): Buffer {
  const out = Buffer.from(b);
  const from = Math.max(32, Math.floor(out.length / 2) - 32);
  randomBytes(64, 5).copy(out, from, 0, Math.min(64, out.length - from));
  return out;
}

function crc32(bytes: Buffer): number {
  let c = ~0;
  for (const x of bytes) {
    c ^= x;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A complete w×h 8-bit grey PNG, all black: tiny on disk, w·h bytes once inflated. */
function zeroPng(w: number, h: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(Buffer.alloc((w + 1) * h), { level: 9 })),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A valid PNG with one more chunk inserted after IHDR. */
function withChunk(png: Buffer, type: string, data: Buffer): Buffer {
  const afterIhdr = 8 + 8 + 13 + 4;
  return Buffer.concat([png.subarray(0, afterIhdr), pngChunk(type, data), png.subarray(afterIhdr)]);
}

/** A JPEG whose start-of-frame claims side × side. */
function jpegClaiming(jpeg: Buffer, side: number): Buffer {
  const out = Buffer.from(jpeg);
  for (let i = 2; i + 9 < out.length; ) {
    if (out[i] !== 0xff) break;
    const marker = out[i + 1];
    const len = out.readUInt16BE(i + 2);
    if (marker >= 0xc0 && marker <= 0xc3) {
      out.writeUInt16BE(side, i + 5);
      out.writeUInt16BE(side, i + 7);
      return out;
    }
    i += 2 + len;
  }
  throw new Error('no SOF marker in the JPEG');
}

/** A WebP whose canvas (VP8X) or frame (VP8/VP8L) claims side × side (14-bit limit: 16383). */
function webpClaiming(webp: Buffer, side: number): Buffer {
  const out = Buffer.from(webp);
  const chunk = out.toString('latin1', 12, 16);
  if (chunk === 'VP8X') {
    out.writeUIntLE(side - 1, 24, 3);
    out.writeUIntLE(side - 1, 27, 3);
  } else if (chunk === 'VP8 ') {
    out.writeUInt16LE(side & 0x3fff, 26);
    out.writeUInt16LE(side & 0x3fff, 28);
  } else if (chunk === 'VP8L') {
    const bits = ((side - 1) & 0x3fff) | (((side - 1) & 0x3fff) << 14) | (out.readUInt32LE(21) & ~0x0fffffff);
    out.writeUInt32LE(bits >>> 0, 21);
  } else {
    throw new Error(`unexpected WebP chunk ${chunk}`);
  }
  return out;
}

/** A GIF whose logical screen and first image claim side × side. */
function gifClaiming(gif: Buffer, side: number): Buffer {
  const out = Buffer.from(gif);
  out.writeUInt16LE(side, 6);
  out.writeUInt16LE(side, 8);
  const packed = out[10];
  let i = 13 + (packed & 0x80 ? 3 * 2 ** ((packed & 7) + 1) : 0);
  while (i < out.length && out[i] === 0x21) {
    i += 2;
    while (out[i] !== 0) i += out[i] + 1;
    i++;
  }
  if (out[i] === 0x2c) {
    out.writeUInt16LE(side, i + 5);
    out.writeUInt16LE(side, i + 7);
  }
  return out;
}

/** A TIFF whose first IFD claims side × side (ImageWidth/ImageLength). */
function tiffClaiming(tiff: Buffer, side: number): Buffer {
  const out = Buffer.from(tiff);
  const le = out.toString('latin1', 0, 2) === 'II';
  const u16 = (at: number) => (le ? out.readUInt16LE(at) : out.readUInt16BE(at));
  const ifd = le ? out.readUInt32LE(4) : out.readUInt32BE(4);
  const n = u16(ifd);
  for (let k = 0; k < n; k++) {
    const e = ifd + 2 + 12 * k;
    const tag = u16(e);
    if (tag !== 256 && tag !== 257) continue;
    const type = u16(e + 2);
    if (type === 3) {
      const v = Math.min(side, 65_535);
      if (le) out.writeUInt16LE(v, e + 8);
      else out.writeUInt16BE(v, e + 8);
    } else if (le) out.writeUInt32LE(side, e + 8);
    else out.writeUInt32BE(side, e + 8);
  }
  return out;
}

/** An AVIF whose image spatial extents (ispe) claim side × side. */
function avifClaiming(avif: Buffer, side: number): Buffer {
  const out = Buffer.from(avif);
  const at = out.indexOf('ispe', 0, 'latin1');
  if (at < 0) throw new Error('no ispe box in the AVIF');
  out.writeUInt32BE(side, at + 8);
  out.writeUInt32BE(side, at + 12);
  return out;
}

/** A GIF whose screen and only image are 0 × 0. */
function gif0x0(): Buffer {
  return Buffer.from('4749463839610000000080000000000000ffffff2c000000000000000000020144003b', 'hex');
}

function bmp1x1(): Buffer {
  const b = Buffer.alloc(58);
  b.write('BM', 0, 'latin1');
  b.writeUInt32LE(58, 2);
  b.writeUInt32LE(54, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(1, 18);
  b.writeInt32LE(1, 22);
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(24, 28);
  b.writeUInt32LE(4, 34);
  return b;
}
