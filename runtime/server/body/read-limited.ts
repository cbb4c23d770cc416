import type { IncomingMessage } from 'node:http';
import { Transform, type TransformCallback } from 'node:stream';
import { RuntimeError } from '../../errors.js';

function tooLarge(limit: number, seen: number | string): RuntimeError {
  return new RuntimeError('payload_too_large', `request body is ${seen} bytes or more; the limit is ${limit} bytes (MAX_BODY_BYTES)`, { maxBodyBytes: limit });
}

/**
 * Refuses a body sent with a Content-Encoding other than identity (RFC 9110 §8.4: 415): the
 * runtime decodes no compressed bodies, and must not take compressed bytes for the image itself.
 */
export function checkContentEncoding(req: IncomingMessage): void {
  const codings = String(req.headers['content-encoding'] ?? '')
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity');
  if (codings.length > 0) {
    throw new RuntimeError('unsupported_media_type', `Content-Encoding "${codings.join(', ')}" is not accepted; send the body uncompressed (no Content-Encoding, or identity)`);
  }
}

/** Refuses at once a body with a Content-Encoding or a declared Content-Length over the limit. */
export function checkDeclaredLength(req: IncomingMessage, limit: number): void {
  checkContentEncoding(req);
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit, declared);
}

/**
 * Reads the whole body, refusing it with `payload_too_large` as soon as more than `limit` bytes
 * arrived (nothing beyond the limit is buffered).
 */
export function readLimited(req: IncomingMessage, limit: number): Promise<Buffer> {
  checkDeclaredLength(req, limit);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.pause();
        reject(tooLarge(limit, size));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (e: Error) => {
      cleanup();
      reject(e);
    };
    const cleanup = () => {
      req.off('data', onData).off('end', onEnd).off('error', onError).off('aborted', onAborted);
    };
    // the client is gone: nobody reads the answer, but it must not count as a server error
    const onAborted = () => onError(new RuntimeError('invalid_request', 'the client aborted the request'));
    req.on('data', onData).on('end', onEnd).on('error', onError).on('aborted', onAborted);
  });
}

/** A pass-through that errors with `payload_too_large` once more than `limit` bytes went through. */
export function limitStream(limit: number): Transform {
  let size = 0;
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
      size += chunk.length;
      if (size > limit) done(tooLarge(limit, size));
      else done(null, chunk);
    },
  });
}
