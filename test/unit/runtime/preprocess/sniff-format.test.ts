import { describe, expect, it } from '@jest/globals';
import { RuntimeError } from '../../../../runtime/errors.js';
import { sniffFormat } from '../../../../runtime/preprocess/sniff-format.js';
import { encodeDigit, mnistDigit, type EncodeFormat } from '../../../support/images.js';

function refusal(bytes: Buffer): RuntimeError {
  try {
    sniffFormat(bytes);
  } catch (e) {
    if (e instanceof RuntimeError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('sniffFormat', () => {
  const cases: [EncodeFormat, string][] = [
    ['png', 'png'],
    ['png16', 'png'],
    ['jpeg', 'jpeg'],
    ['jpeg-cmyk', 'jpeg'],
    ['webp', 'webp'],
    ['gif', 'gif'],
    ['tiff', 'tiff'],
    ['avif', 'avif'],
  ];
  it.each(cases)('names a real %s file by its first bytes', async (format, expected) => {
    const bytes = await encodeDigit(mnistDigit(0).pixels, { format });
    expect(sniffFormat(bytes)).toBe(expected);
  });

  it.each([
    ['svg', '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', 'svg'],
    ['svg after a BOM and blanks', '\uFEFF  \n<svg xmlns="http://www.w3.org/2000/svg"></svg>', 'svg'],
    ['html', '<!doctype html><p>hi</p>', 'xml/html'],
    ['bmp', 'BM:\0\0\0\0\0\0\x006\0\0\0', 'bmp'],
    ['pdf', '%PDF-1.7\n', 'pdf'],
    ['netpbm', 'P5\n28 28\n255\n', 'netpbm'],
    ['plain text', 'hello, this is not an image', 'unknown'],
  ])('refuses %s as unsupported_media_type', (_name, text, detected) => {
    const e = refusal(Buffer.from(text, 'utf8'));
    expect(e.code).toBe('unsupported_media_type');
    expect(e.details?.detected).toBe(detected);
    expect(e.message).toMatch(/accepted: PNG, JPEG, WebP, GIF, TIFF, AVIF/);
  });

  it('refuses HEIC (an ISO-BMFF file without an AVIF brand)', () => {
    const box = Buffer.alloc(24);
    box.writeUInt32BE(24, 0);
    box.write('ftypheic', 4, 'latin1');
    box.write('mif1heic', 16, 'latin1');
    expect(refusal(box).code).toBe('unsupported_media_type');
  });

  it('accepts an ISO-BMFF file whose compatible brands include avif', () => {
    const box = Buffer.alloc(24);
    box.writeUInt32BE(24, 0);
    box.write('ftypmif1', 4, 'latin1');
    box.write('miafavif', 16, 'latin1');
    expect(sniffFormat(box)).toBe('avif');
  });

  it('refuses a file too short to carry any signature', () => {
    expect(refusal(Buffer.from([0x89, 0x50])).code).toBe('unsupported_media_type');
  });
});
