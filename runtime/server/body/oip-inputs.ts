import { RuntimeError } from '../../errors.js';
import type { ImageInput } from '../../app/inputs.js';
import { EXPECTED_INPUT, tensorsToImages, type OipInputTensor } from '../../oip/tensor-inputs.js';
import { checkOutputNames } from '../../oip/tensor-outputs.js';
import type { OipOutputName } from '../../oip/tensors.js';
import { inferRequestSchema, type InferRequest } from '../schemas/oip.js';
import { schemaError } from './schema-error.js';

export interface ParsedInfer {
  request: InferRequest;
  inputs: ImageInput[];
  outputs?: OipOutputName[];
  /** Whether an output is to be answered as binary data (`binary_data`, else the request's `binary_data_output`). */
  binaryOutput(name: OipOutputName): boolean;
}

const flatten = (v: unknown): unknown[] => (Array.isArray(v) ? v.flatMap(flatten) : [v]);

function flag(params: Record<string, unknown> | undefined, key: string, where: string): boolean | undefined {
  const v = params?.[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new RuntimeError('invalid_request', `${where} parameter "${key}" is ${JSON.stringify(v)}; it must be true or false`);
  return v;
}

/**
 * An OIP infer request → images (validated by the schema /openapi.json publishes) and the outputs
 * asked for. `binary` is what followed the JSON header under the binary tensor data extension:
 * inputs with a `binary_data_size` parameter take their data from it, in input order.
 */
export function inferToInputs(doc: unknown, maxImages: number, binary?: Buffer): ParsedInfer {
  const r = inferRequestSchema.safeParse(doc);
  if (!r.success) throw schemaError(r.error, EXPECTED_INPUT);
  const request = r.data;
  let offset = 0;
  const tensors: OipInputTensor[] = request.inputs.map((input) => {
    const size = input.parameters?.binary_data_size;
    const where = `input ${JSON.stringify(input.name)}`;
    if (size === undefined) {
      if (input.data === undefined) throw new RuntimeError('invalid_request', `${where} has neither "data" nor a "binary_data_size" parameter`);
      return { name: input.name, datatype: input.datatype, shape: input.shape, data: { kind: 'values', values: flatten(input.data) } };
    }
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 0) throw new RuntimeError('invalid_request', `${where} parameter "binary_data_size" is ${JSON.stringify(size)}; it must be a byte count`);
    if (input.data !== undefined) throw new RuntimeError('invalid_request', `${where} has both "data" and "binary_data_size"; send one`);
    const available = binary?.length ?? 0;
    if (offset + size > available) {
      throw new RuntimeError('malformed_json', `${where} declares binary_data_size ${size} but only ${available - offset} bytes follow the JSON header (Inference-Header-Content-Length)`);
    }
    const raw = binary!.subarray(offset, offset + size);
    offset += size;
    return { name: input.name, datatype: input.datatype, shape: input.shape, data: { kind: 'raw', raw } };
  });
  if (binary && offset !== binary.length) {
    throw new RuntimeError('malformed_json', `${binary.length - offset} bytes after the JSON header belong to no input; each binary input declares its "binary_data_size"`);
  }
  const inputs = tensorsToImages(tensors, maxImages);
  const outputs = request.outputs ? checkOutputNames(request.outputs.map((o) => o.name)) : undefined;
  const all = flag(request.parameters, 'binary_data_output', 'request') ?? false;
  const own = new Map<string, boolean | undefined>((request.outputs ?? []).map((o) => [o.name, flag(o.parameters, 'binary_data', `output ${JSON.stringify(o.name)}`)]));
  for (const o of request.outputs ?? []) {
    if (o.parameters?.classification !== undefined) throw new RuntimeError('invalid_request', `output ${JSON.stringify(o.name)}: the classification extension is not supported; the "digit" and "probabilities" outputs carry the class`);
  }
  return { request, inputs, outputs, binaryOutput: (name) => own.get(name) ?? all };
}

/** The `Inference-Header-Content-Length` value → the JSON header's length within a body of `total` bytes. */
export function headerLength(value: string, total: number): number {
  const n = /^\s*\d{1,12}\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > total) {
    throw new RuntimeError('malformed_json', `Inference-Header-Content-Length is ${JSON.stringify(value)}; it must be the byte length of the JSON header that starts the body (1..${total})`);
  }
  return n;
}
