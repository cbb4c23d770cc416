import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import { RuntimeError } from '../../errors.js';
import { checkDeclaredLength, limitStream } from './read-limited.js';

export interface MultipartLimits {
  maxBodyBytes: number;
  maxImages: number;
}

/** A file part's bytes, with the name the client gave it (for error messages). */
export interface FilePart {
  field: string;
  filename?: string;
  /** The part's declared Content-Type, if any. */
  mimeType?: string;
  bytes: Buffer;
}

/**
 * The file parts of a multipart/form-data body, in order (any field name; non-file fields are
 * ignored). Streams: the body limit and the image count are enforced while reading.
 */
export function readMultipart(req: IncomingMessage, limits: MultipartLimits): Promise<FilePart[]> {
  checkDeclaredLength(req, limits.maxBodyBytes);
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: req.headers, limits: { files: limits.maxImages, fields: 1000, parts: limits.maxImages + 1000 } });
    } catch (e) {
      reject(new RuntimeError('malformed_multipart', `multipart body refused: ${(e as Error).message}`));
      return;
    }
    const parts: FilePart[] = [];
    let failed = false;
    const fail = (e: Error) => {
      if (failed) return;
      failed = true;
      req.unpipe(limiter);
      limiter.unpipe(bb);
      reject(e);
    };
    bb.on('file', (field, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => parts.push({ field, filename: info.filename, mimeType: info.mimeType, bytes: Buffer.concat(chunks) }));
      // busboy reports a body cut short ("Unexpected end of form") on the part's stream too:
      // without a listener that error would be unhandled and take the process down
      stream.on('error', (e: Error) => fail(new RuntimeError('malformed_multipart', `multipart body could not be parsed: ${e.message}`)));
    });
    bb.on('filesLimit', () =>
      fail(new RuntimeError('too_many_images', `more than ${limits.maxImages} images in one request (MAX_IMAGES_PER_REQUEST); send them in several requests`, { maxImagesPerRequest: limits.maxImages })),
    );
    bb.on('error', (e: Error) => fail(new RuntimeError('malformed_multipart', `multipart body could not be parsed: ${e.message}`)));
    bb.on('close', () => {
      if (!failed) resolve(parts);
    });
    const limiter = limitStream(limits.maxBodyBytes);
    limiter.on('error', (e: Error) => fail(e));
    req.on('aborted', () => fail(new RuntimeError('invalid_request', 'the client aborted the request')));
    req.pipe(limiter).pipe(bb);
  });
}
