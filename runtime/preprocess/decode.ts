import sharp, { type Metadata, type SharpOptions } from 'sharp';
import { RuntimeError } from '../errors.js';
import { sniffFormat } from './sniff-format.js';
import type { AcceptedFormat, PreprocessLimits } from './types.js';

/** Longest side of the working image the JS steps run on; bigger photos are shrunk by sharp. */
export const WORKING_SIZE = 512;

export interface DecodedImage {
  format: AcceptedFormat;
  /** Size as sent, after EXIF orientation. */
  width: number;
  height: number;
  /** The working image: interleaved 8-bit samples, `channels` per pixel (alpha last if any). */
  data: Buffer;
  workWidth: number;
  workHeight: number;
  channels: number;
  hasAlpha: boolean;
}

let hardened = false;

/**
 * Defence in depth: the magic-byte allow-list already keeps these away from sharp, but the
 * loaders that can reach outside the image (SVG entities, PDF, ImageMagick) are also switched off
 * in libvips itself. Process-wide, once; nothing in the runtime decodes those formats.
 */
function hardenDecoders(): void {
  if (hardened) return;
  sharp.block({
    operation: ['VipsForeignLoadSvg', 'VipsForeignLoadPdf', 'VipsForeignLoadMagick', 'VipsForeignLoadOpenslide'],
  });
  hardened = true;
}

function sharpOptions(limits: PreprocessLimits): SharpOptions {
  return {
    // refuse truncated or corrupt pixel data, tolerate the harmless warnings real cameras cause
    failOn: 'error',
    limitInputPixels: Math.max(1, Math.floor(limits.maxInputPixels)),
    sequentialRead: true,
    autoOrient: true,
    // first frame only: an animation with thousands of frames costs one frame
    pages: 1,
    page: 0,
  };
}

/** Maps a sharp/libvips failure onto our codes; the message stays useful to the client. */
function asRuntimeError(e: unknown, stage: string): RuntimeError {
  if (e instanceof RuntimeError) return e;
  const message = e instanceof Error ? e.message : String(e);
  if (/pixel limit/i.test(message)) {
    return new RuntimeError('image_too_large', `image has more pixels than allowed (${stage})`);
  }
  if (/unsupported image format/i.test(message)) {
    // the magic bytes named an accepted format, so the decoder's refusal means a broken file
    return new RuntimeError('invalid_image', 'image could not be decoded: its header is damaged', { stage });
  }
  const reason = message.split('\n')[0].slice(0, 200);
  return new RuntimeError('invalid_image', `image could not be decoded: ${reason}`, { stage });
}

function formatOf(meta: Metadata): AcceptedFormat | null {
  switch (meta.format) {
    case 'png':
    case 'jpeg':
    case 'webp':
    case 'gif':
    case 'tiff':
      return meta.format;
    case 'heif':
      return meta.compression === 'av1' ? 'avif' : null;
    default:
      return null;
  }
}

/** Width and height from a PNG's IHDR chunk (always the first), or undefined when it is not there. */
function pngSize(bytes: Buffer): { width: number; height: number } | undefined {
  if (bytes.length < 24 || bytes.readUInt32BE(8) !== 13 || bytes.toString('latin1', 12, 16) !== 'IHDR') return undefined;
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

/**
 * The common case in one libvips call instead of two: a PNG whose IHDR says it already fits the
 * working size and the pixel limit needs no header check before the decode (nothing is resized,
 * and the limit is also libvips's own `limitInputPixels`), so it is decoded at once, with the
 * same options as decodeImage's and so to the same raster. Undefined when the image is not such a
 * PNG or the decode fails: decodeImage then takes the full path, which gives every refusal its
 * usual status and message.
 */
async function decodeSmallPng(bytes: Buffer, limits: PreprocessLimits, options: SharpOptions): Promise<DecodedImage | undefined> {
  const size = pngSize(bytes);
  if (!size || size.width < 1 || size.height < 1 || Math.max(size.width, size.height) > WORKING_SIZE || size.width * size.height > limits.maxInputPixels) {
    return undefined;
  }
  try {
    const { data, info } = await sharp(bytes, options).raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    return {
      format: 'png',
      // not resized: the raster's size is the size as sent, after EXIF orientation
      width: info.width,
      height: info.height,
      data,
      workWidth: info.width,
      workHeight: info.height,
      channels: info.channels,
      hasAlpha: info.channels === 2 || info.channels === 4,
    };
  } catch {
    return undefined;
  }
}

/**
 * Decodes an accepted image into a small working raster: format checked from the magic bytes and
 * the header, the pixel count checked from the header (before any pixel is decoded), EXIF
 * orientation applied, first frame only, shrunk to at most WORKING_SIZE on the longer side.
 */
export async function decodeImage(bytes: Buffer, limits: PreprocessLimits): Promise<DecodedImage> {
  if (bytes.length === 0) throw new RuntimeError('invalid_image', 'image is empty (0 bytes)');
  const sniffed = sniffFormat(bytes);
  hardenDecoders();
  const options = sharpOptions(limits);
  const small = sniffed === 'png' ? await decodeSmallPng(bytes, limits, options) : undefined;
  if (small) return small;

  let meta: Metadata;
  try {
    // header only; the pixel limit is applied below, with the figures in the error
    meta = await sharp(bytes, { ...options, limitInputPixels: false }).metadata();
  } catch (e) {
    throw asRuntimeError(e, 'header');
  }
  const format = formatOf(meta);
  if (format !== sniffed) {
    throw new RuntimeError(
      format === null ? 'unsupported_media_type' : 'invalid_image',
      `image header says ${meta.format ?? 'nothing'} but the bytes start as ${sniffed}`,
    );
  }
  const width = meta.width ?? 0;
  const frameHeight = meta.pageHeight ?? meta.height ?? 0;
  if (width <= 0 || frameHeight <= 0) throw new RuntimeError('invalid_image', 'image has no pixels');
  if (width * frameHeight > limits.maxInputPixels) {
    throw new RuntimeError(
      'image_too_large',
      `image is ${width}×${frameHeight} = ${width * frameHeight} pixels; at most ${limits.maxInputPixels} are accepted`,
      { width, height: frameHeight, maxInputPixels: limits.maxInputPixels },
    );
  }

  const oriented = meta.autoOrient ?? { width, height: frameHeight };
  try {
    let pipeline = sharp(bytes, options);
    // an image that already fits is left as it is (a resize stage would only cost time); any
    // side the header gives that is larger keeps the resize, so the raster stays bounded
    if (Math.max(oriented.width, oriented.height, width, meta.height ?? 0) > WORKING_SIZE) {
      pipeline = pipeline.resize({ width: WORKING_SIZE, height: WORKING_SIZE, fit: 'inside', withoutEnlargement: true });
    }
    const { data, info } = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    return {
      format,
      width: oriented.width,
      height: oriented.height,
      data,
      workWidth: info.width,
      workHeight: info.height,
      channels: info.channels,
      hasAlpha: info.channels === 2 || info.channels === 4,
    };
  } catch (e) {
    throw asRuntimeError(e, 'decode');
  }
}
