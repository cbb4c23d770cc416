import type { ImageInput } from '../app/inputs.js';
import { RuntimeError } from '../errors.js';
import { decodeBase64Image } from '../server/body/base64.js';
import { decodeBytesElements, decodeFp32 } from './binary-tensor.js';

export const EXPECTED_INPUT = 'send exactly one input: "image" (datatype BYTES, shape [n], image files) or "pixels" (datatype FP32, shape [n, 28, 28, 1], values in 0..1)';

/**
 * One input tensor as an edge received it: elements as values (JSON `data`, flattened; gRPC typed
 * contents) or raw bytes (HTTP binary tensor data extension; gRPC `raw_input_contents`).
 */
export interface OipInputTensor {
  name: string;
  datatype: string;
  shape: number[];
  data: { kind: 'values'; values: readonly unknown[] } | { kind: 'raw'; raw: Buffer };
}

const product = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

function tooMany(n: number, max: number): RuntimeError {
  return new RuntimeError('too_many_images', `${n} images in one request; at most ${max} (MAX_IMAGES_PER_REQUEST)`, { maxImagesPerRequest: max });
}

/** A BYTES element: a base64 string (JSON) or the file's bytes (binary forms). */
function imageBytes(v: unknown, label: string): Buffer {
  return Buffer.isBuffer(v) ? v : decodeBase64Image(v, label);
}

function images(t: OipInputTensor, maxImages: number): ImageInput[] {
  if (t.datatype !== 'BYTES') throw new RuntimeError('invalid_tensor', `input "image" has datatype ${t.datatype}; it must be BYTES`);
  const elements = t.data.kind === 'raw' ? decodeBytesElements(t.data.raw, 'input "image"') : t.data.values;
  const n = elements.length;
  if (t.shape.length !== 1 || (t.shape[0] !== n && t.shape[0] !== -1)) {
    throw new RuntimeError('invalid_tensor', `input "image" has shape ${JSON.stringify(t.shape)} but ${n} elements; use shape [${n}]`);
  }
  if (n === 0) throw new RuntimeError('invalid_tensor', 'input "image" has no data');
  if (n > maxImages) throw tooMany(n, maxImages);
  return elements.map((d, i) => ({ kind: 'bytes' as const, bytes: imageBytes(d, `image[${i}]`), label: `image[${i}]` }));
}

function pixels(t: OipInputTensor, maxImages: number): ImageInput[] {
  if (t.datatype !== 'FP32') throw new RuntimeError('invalid_tensor', `input "pixels" has datatype ${t.datatype}; it must be FP32`);
  const { shape } = t;
  const n = shape[0];
  const ok = shape.length === 4 && Number.isInteger(n) && n > 0 && shape[1] === 28 && shape[2] === 28 && shape[3] === 1;
  if (!ok) throw new RuntimeError('invalid_tensor', `input "pixels" has shape ${JSON.stringify(shape)}; it must be [n, 28, 28, 1]`);
  const values = t.data.kind === 'raw' ? decodeFp32(t.data.raw, 'input "pixels"') : t.data.values;
  if (values.length !== product(shape)) throw new RuntimeError('invalid_tensor', `input "pixels" has ${values.length} values; shape ${JSON.stringify(shape)} needs ${product(shape)}`);
  if (n > maxImages) throw tooMany(n, maxImages);
  return Array.from({ length: n }, (_, i) => {
    const px = new Float32Array(784);
    for (let k = 0; k < 784; k++) {
      const v = values[i * 784 + k];
      if (typeof v !== 'number') throw new RuntimeError('invalid_tensor', `input "pixels" value ${i * 784 + k} is ${JSON.stringify(v)}; FP32 data must be numbers`);
      px[k] = v;
    }
    return { kind: 'pixels' as const, pixels: px, label: `pixels[${i}]` };
  });
}

/** The request's input tensors → its images, in order (exactly one input, `image` or `pixels`). Pure. */
export function tensorsToImages(tensors: readonly OipInputTensor[], maxImages: number): ImageInput[] {
  if (tensors.length !== 1) throw new RuntimeError('invalid_tensor', `the request has ${tensors.length} inputs; ${EXPECTED_INPUT}`);
  const t = tensors[0];
  if (t.name === 'image') return images(t, maxImages);
  if (t.name === 'pixels') return pixels(t, maxImages);
  throw new RuntimeError('invalid_tensor', `unknown input ${JSON.stringify(t.name)}; ${EXPECTED_INPUT}`);
}
