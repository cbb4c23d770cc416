import { Readable } from 'node:stream';
import busboy from 'busboy';
import { RuntimeError } from '../errors.js';

/** The file parts of a multipart/form-data body, in order (any field name; several = a batch). */
export function multipartFiles(body: Buffer, contentType: string, maxFiles: number): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: { 'content-type': contentType }, limits: { files: maxFiles + 1, fields: 100, parts: maxFiles + 101 } });
    } catch (e) {
      reject(new RuntimeError('invalid_image', `malformed multipart/form-data: ${(e as Error).message}`));
      return;
    }
    const files: Buffer[] = [];
    let failed = false;
    const fail = (e: RuntimeError) => {
      if (!failed) reject(e);
      failed = true;
    };
    bb.on('file', (_name, stream) => {
      const chunks: Buffer[] = [];
      const index = files.length;
      files.push(Buffer.alloc(0));
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => (files[index] = Buffer.concat(chunks)));
    });
    bb.on('filesLimit', () => fail(new RuntimeError('too_many_images', `more than ${maxFiles} images in one request (MAX_IMAGES_PER_REQUEST)`)));
    bb.on('error', (e: Error) => fail(new RuntimeError('invalid_image', `malformed multipart/form-data: ${e.message}`)));
    bb.on('close', () => {
      if (failed) return;
      if (files.length === 0) fail(new RuntimeError('empty_body', 'the multipart body has no file part; send the image as a file field, e.g. -F image=@digit.png'));
      else resolve(files);
    });
    Readable.from([body]).pipe(bb);
  });
}
