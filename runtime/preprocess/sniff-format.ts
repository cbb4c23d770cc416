import { RuntimeError } from '../errors.js';
import type { AcceptedFormat } from './types.js';

/**
 * Names the format from the first bytes alone, so nothing outside the allow-list ever reaches a
 * decoder (sharp would happily render SVG, whose external entities must never be fetched).
 */

const ACCEPTED_LIST = 'PNG, JPEG, WebP, GIF, TIFF, AVIF';

function startsWith(bytes: Buffer, sig: readonly number[], at = 0): boolean {
  if (bytes.length < at + sig.length) return false;
  return sig.every((b, i) => bytes[at + i] === b);
}

function ascii(bytes: Buffer, from: number, to: number): string {
  return bytes.subarray(from, Math.min(to, bytes.length)).toString('latin1');
}

/** ISO-BMFF `ftyp` brands (major + compatible) of an AVIF/HEIF-family file, or null. */
function ftypBrands(bytes: Buffer): string[] | null {
  if (bytes.length < 16 || ascii(bytes, 4, 8) !== 'ftyp') return null;
  const boxSize = Math.min(bytes.readUInt32BE(0), bytes.length, 256);
  const brands = [ascii(bytes, 8, 12)];
  for (let at = 16; at + 4 <= boxSize; at += 4) brands.push(ascii(bytes, at, at + 4));
  return brands;
}

/** A name for refused formats we recognise, so the error can say what was sent. */
function recogniseRefused(bytes: Buffer): string {
  const head = ascii(bytes, 0, 512).replace(/^\uFEFF|^\xEF\xBB\xBF/, '').trimStart();
  if (head.startsWith('<')) return /<svg[\s>]/i.test(ascii(bytes, 0, 4096)) ? 'svg' : 'xml/html';
  if (startsWith(bytes, [0x1f, 0x8b])) return 'gzip (svgz?)';
  if (ascii(bytes, 0, 2) === 'BM') return 'bmp';
  if (ascii(bytes, 0, 4) === '%PDF') return 'pdf';
  if (ascii(bytes, 0, 4) === '8BPS') return 'psd';
  if (startsWith(bytes, [0xff, 0x0a]) || ascii(bytes, 4, 8) === 'JXL ') return 'jxl';
  if (ascii(bytes, 4, 8) === 'jP  ' || startsWith(bytes, [0xff, 0x4f, 0xff, 0x51])) return 'jpeg2000';
  if (startsWith(bytes, [0, 0, 1, 0])) return 'ico';
  if (/^P[1-7]\s/.test(ascii(bytes, 0, 3))) return 'netpbm';
  const brands = ftypBrands(bytes);
  if (brands) return `isobmff (${brands[0].trim()})`;
  return 'unknown';
}

/** The accepted format of these bytes, or a RuntimeError `unsupported_media_type`. */
export function sniffFormat(bytes: Buffer): AcceptedFormat {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  const gif = ascii(bytes, 0, 6);
  if (gif === 'GIF87a' || gif === 'GIF89a') return 'gif';
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP') return 'webp';
  const tiff = ascii(bytes, 0, 4);
  if (tiff === 'II*\0' || tiff === 'MM\0*' || tiff === 'II+\0' || tiff === 'MM\0+') return 'tiff';
  const brands = ftypBrands(bytes);
  if (brands && (brands.includes('avif') || brands.includes('avis'))) return 'avif';
  const seen = recogniseRefused(bytes);
  throw new RuntimeError(
    'unsupported_media_type',
    `unsupported image format (${seen}); accepted: ${ACCEPTED_LIST}`,
    { detected: seen, accepted: ACCEPTED_LIST.split(', ') },
  );
}

export const acceptedFormatList = ACCEPTED_LIST;
