import { RuntimeError } from '../../errors.js';
import { OIP_OUTPUTS, type OipOutputName } from '../format.js';
import type { ImageInput } from '../../app/inputs.js';
import { inferRequestSchema, type InferRequest } from '../schemas/oip.js';
import { decodeBase64Image } from './base64.js';
import { schemaError } from './schema-error.js';

const EXPECTED = 'send exactly one input: "image" (datatype BYTES, shape [n], base64-encoded image files) or "pixels" (datatype FP32, shape [n, 28, 28, 1], values in 0..1)';

const flatten = (v: unknown): unknown[] => (Array.isArray(v) ? v.flatMap(flatten) : [v]);
const product = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

export interface ParsedInfer {
  request: InferRequest;
  inputs: ImageInput[];
  outputs?: OipOutputName[];
}

function tooMany(n: number, max: number): RuntimeError {
  return new RuntimeError('too_many_images', `${n} images in one request; at most ${max} (MAX_IMAGES_PER_REQUEST)`, { maxImagesPerRequest: max });
}

/** An OIP infer request → images (validated by the schema /openapi.json publishes) and the outputs asked for. */
export function inferToInputs(doc: unknown, maxImages: number): ParsedInfer {
  const r = inferRequestSchema.safeParse(doc);
  if (!r.success) throw schemaError(r.error, EXPECTED);
  const request = r.data;
  const input = request.inputs[0];
  const data = flatten(input.data);
  const shape = input.shape;
  let inputs: ImageInput[];
  if (input.name === 'image') {
    if (input.datatype !== 'BYTES') throw new RuntimeError('invalid_tensor', `input "image" has datatype ${input.datatype}; it must be BYTES`);
    if (shape.length !== 1 || (shape[0] !== data.length && shape[0] !== -1)) {
      throw new RuntimeError('invalid_tensor', `input "image" has shape ${JSON.stringify(shape)} but ${data.length} elements; use shape [${data.length}]`);
    }
    if (data.length === 0) throw new RuntimeError('invalid_tensor', 'input "image" has no data');
    if (data.length > maxImages) throw tooMany(data.length, maxImages);
    inputs = data.map((d, i) => ({ kind: 'bytes', bytes: decodeBase64Image(d, `image[${i}]`), label: `image[${i}]` }));
  } else if (input.name === 'pixels') {
    if (input.datatype !== 'FP32') throw new RuntimeError('invalid_tensor', `input "pixels" has datatype ${input.datatype}; it must be FP32`);
    const n = shape[0];
    const ok = shape.length === 4 && Number.isInteger(n) && n > 0 && shape[1] === 28 && shape[2] === 28 && shape[3] === 1;
    if (!ok) throw new RuntimeError('invalid_tensor', `input "pixels" has shape ${JSON.stringify(shape)}; it must be [n, 28, 28, 1]`);
    if (data.length !== product(shape)) throw new RuntimeError('invalid_tensor', `input "pixels" has ${data.length} values; shape ${JSON.stringify(shape)} needs ${product(shape)}`);
    if (n > maxImages) throw tooMany(n, maxImages);
    inputs = Array.from({ length: n }, (_, i) => {
      const pixels = new Float32Array(784);
      for (let k = 0; k < 784; k++) {
        const v = data[i * 784 + k];
        if (typeof v !== 'number') throw new RuntimeError('invalid_tensor', `input "pixels" value ${i * 784 + k} is ${JSON.stringify(v)}; FP32 data must be numbers`);
        pixels[k] = v;
      }
      return { kind: 'pixels' as const, pixels, label: `pixels[${i}]` };
    });
  } else {
    throw new RuntimeError('invalid_tensor', `unknown input ${JSON.stringify(input.name)}; ${EXPECTED}`);
  }
  let outputs: OipOutputName[] | undefined;
  if (request.outputs) {
    const known = OIP_OUTPUTS.map((o) => o.name as string);
    const bad = request.outputs.find((o) => !known.includes(o.name));
    if (bad) throw new RuntimeError('invalid_request', `unknown output ${JSON.stringify(bad.name)}; the model's outputs are ${known.join(', ')}`);
    outputs = request.outputs.map((o) => o.name as OipOutputName);
  }
  return { request, inputs, outputs };
}
