import { RuntimeError } from '../../errors.js';
import type { ImageInput } from '../../app/inputs.js';
import { b64InstanceSchema, pixelInstanceSchema, predictJsonEnvelopeSchema } from '../schemas/v1.js';
import { decodeBase64Image } from './base64.js';
import { schemaError } from './schema-error.js';

/** Parses a request body as JSON, refusing malformed text with malformed_json (400). */
export function parseJsonBody(bytes: Buffer): unknown {
  if (bytes.length === 0) throw new RuntimeError('empty_body', 'the request body is empty; send {"instances": [...]}');
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new RuntimeError('malformed_json', `the body is not valid JSON: ${(e as Error).message}`);
  }
}

/** `{"instances": [{"b64": …} | 28×28 numbers]}` → images, validated by the schema /openapi.json publishes. */
export function instancesToInputs(doc: unknown, maxImages: number): ImageInput[] {
  const count = (doc as { instances?: unknown })?.instances;
  if (Array.isArray(count) && count.length > maxImages) {
    throw new RuntimeError('too_many_images', `${count.length} images in one request; at most ${maxImages} (MAX_IMAGES_PER_REQUEST)`, { maxImagesPerRequest: maxImages });
  }
  const r = predictJsonEnvelopeSchema.safeParse(doc);
  if (!r.success) throw schemaError(r.error, EXPECTED);
  return r.data.instances.map((inst, i): ImageInput => {
    const label = `instances[${i}]`;
    if (Array.isArray(inst)) {
      const rows = pixelInstanceSchema.safeParse(inst);
      if (!rows.success) {
        const where = rows.error.issues[0]?.path.join('.') ?? '';
        throw new RuntimeError('invalid_tensor', `${label}${where ? `.${where}` : ''}: ${rows.error.issues[0]?.message ?? 'bad value'}; a pixel instance is 28 rows of 28 numbers in 0..1 (or 28×28×1)`);
      }
      const pixels = new Float32Array(784);
      rows.data.forEach((row, y) => row.forEach((v, x) => (pixels[y * 28 + x] = Array.isArray(v) ? v[0] : v)));
      return { kind: 'pixels', pixels, label };
    }
    const b64 = b64InstanceSchema.safeParse(inst);
    if (!b64.success) throw new RuntimeError('invalid_request', `${label}: ${EXPECTED}`);
    return { kind: 'bytes', bytes: decodeBase64Image(b64.data.b64, `${label}.b64`), label };
  });
}

const EXPECTED = 'each instance is {"b64": "<base64 image file>"} or a 28×28 array of numbers in 0..1; send {"instances": [...]}';
