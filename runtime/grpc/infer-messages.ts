import type { Prediction } from '../app/predict.js';
import type { ServedModel } from '../config.js';
import { RuntimeError } from '../errors.js';
import { encodeFixed } from '../oip/binary-tensor.js';
import type { OipInputTensor } from '../oip/tensor-inputs.js';
import { outputTensors } from '../oip/tensor-outputs.js';
import type { OipOutputName } from '../oip/tensors.js';

/** ModelInferRequest / ModelInferResponse as proto-loader reads and writes them (see proto.ts's options). */
export interface TensorContents {
  bool_contents: boolean[];
  int_contents: number[];
  int64_contents: number[];
  uint_contents: number[];
  uint64_contents: number[];
  fp32_contents: number[];
  fp64_contents: number[];
  bytes_contents: Buffer[];
}
export interface InferInputTensor {
  name: string;
  datatype: string;
  shape: number[];
  contents: TensorContents | null;
}
export interface ModelInferRequest {
  model_name: string;
  model_version: string;
  id: string;
  inputs: InferInputTensor[];
  outputs: { name: string }[];
  raw_input_contents: Buffer[];
}
export interface ModelInferResponse {
  model_name: string;
  model_version: string;
  id: string;
  outputs: { name: string; datatype: string; shape: number[] }[];
  raw_output_contents: Buffer[];
}

/** Which typed field carries a datatype's elements. */
const FIELD: Record<string, keyof TensorContents> = {
  BOOL: 'bool_contents',
  INT8: 'int_contents',
  INT16: 'int_contents',
  INT32: 'int_contents',
  INT64: 'int64_contents',
  UINT8: 'uint_contents',
  UINT16: 'uint_contents',
  UINT32: 'uint_contents',
  UINT64: 'uint64_contents',
  FP32: 'fp32_contents',
  FP64: 'fp64_contents',
  BYTES: 'bytes_contents',
};

/** A request's inputs as tensors: from `raw_input_contents` (one entry per input) or each input's typed contents. Pure. */
export function requestTensors(req: ModelInferRequest): OipInputTensor[] {
  const raw = req.raw_input_contents;
  if (raw.length > 0 && raw.length !== req.inputs.length) {
    throw new RuntimeError('invalid_tensor', `raw_input_contents has ${raw.length} entries for ${req.inputs.length} inputs; send one per input, in input order`);
  }
  return req.inputs.map((input, i) => {
    const base = { name: input.name, datatype: input.datatype, shape: input.shape.map(Number) };
    const typed = input.contents ? Object.values(input.contents).some((v) => Array.isArray(v) && v.length > 0) : false;
    if (raw.length > 0) {
      if (typed) throw new RuntimeError('invalid_tensor', `input ${JSON.stringify(input.name)} has contents although the request uses raw_input_contents; use one or the other`);
      return { ...base, data: { kind: 'raw', raw: raw[i] } };
    }
    const field = FIELD[input.datatype];
    const values = field && input.contents ? input.contents[field] : [];
    return { ...base, data: { kind: 'values', values } };
  });
}

/** Predictions → a ModelInferResponse with the requested outputs, their data in `raw_output_contents` (as Triton answers). Pure. */
export function inferResponse(served: ServedModel, predictions: Prediction[], id: string, wanted?: OipOutputName[]): ModelInferResponse {
  const tensors = outputTensors(predictions, wanted);
  return {
    model_name: served.name,
    model_version: served.version,
    id,
    outputs: tensors.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape })),
    raw_output_contents: tensors.map((t) => encodeFixed(t.datatype, t.values)),
  };
}
