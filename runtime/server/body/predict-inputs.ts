import type { Context } from 'koa';
import { RuntimeError } from '../../errors.js';
import type { ImageInput } from '../../app/inputs.js';
import { ACCEPTED_CONTENT_TYPES, bodyKindOf } from './body-kind.js';
import { instancesToInputs, parseJsonBody } from './json-instances.js';
import { readMultipart } from './multipart.js';
import { readLimited } from './read-limited.js';

export interface BodyLimits {
  maxBodyBytes: number;
  maxImagesPerRequest: number;
}

/**
 * A `:predict` body of any accepted kind (raw image, multipart files, JSON instances) → its images,
 * in order. With `keep`, the raw body is also handed to it once read whole (for mirroring; no copy
 * is made otherwise).
 */
export async function readPredictInputs(ctx: Context, limits: BodyLimits, keep?: (body: Buffer) => void): Promise<ImageInput[]> {
  const kind = bodyKindOf(ctx.get('content-type'));
  switch (kind.kind) {
    case 'unsupported':
      throw new RuntimeError('unsupported_media_type', `Content-Type "${kind.mediaType}" is not accepted; send one of: ${ACCEPTED_CONTENT_TYPES.join(', ')}`, {
        accepted: [...ACCEPTED_CONTENT_TYPES],
      });
    case 'image': {
      const bytes = await readLimited(ctx.req, limits.maxBodyBytes);
      keep?.(bytes);
      if (bytes.length === 0) {
        throw new RuntimeError('empty_body', 'the request has no body; send an image (e.g. Content-Type: image/png), multipart/form-data file parts or {"instances": [...]}');
      }
      return [{ kind: 'bytes', bytes, label: 'image', declared: kind.declared }];
    }
    case 'multipart': {
      // the chunks are tapped in the same tick the parser pipes the request (flowing starts on the next one)
      // (removed once the parser is done, so a refused body is never buffered here)
      const chunks: Buffer[] = [];
      const tap = (c: Buffer) => chunks.push(c);
      if (keep) ctx.req.on('data', tap);
      let parts;
      try {
        parts = await readMultipart(ctx.req, { maxBodyBytes: limits.maxBodyBytes, maxImages: limits.maxImagesPerRequest });
      } finally {
        ctx.req.off('data', tap);
      }
      if (keep) keep(Buffer.concat(chunks));
      if (parts.length === 0) throw new RuntimeError('empty_body', 'the multipart body has no file parts; send each image as a file part (curl -F image=@digit.png)');
      return parts.map((p, i) => {
        const declared = bodyKindOf(p.mimeType);
        return {
          kind: 'bytes',
          bytes: p.bytes,
          label: `part ${i + 1} "${p.field}"${p.filename ? ` (${p.filename})` : ''}`,
          declared: declared.kind === 'image' ? declared.declared : undefined,
        };
      });
    }
    case 'json': {
      const body = await readLimited(ctx.req, limits.maxBodyBytes);
      keep?.(body);
      return instancesToInputs(parseJsonBody(body), limits.maxImagesPerRequest);
    }
  }
}
