import type { Prediction } from '../app/predict.js';
import { RuntimeError } from '../errors.js';
import { OIP_OUTPUTS, type OipOutputName } from './tensors.js';

/** One output tensor's values, before an edge writes them as JSON, binary or gRPC contents. */
export interface OipOutputTensor {
  name: OipOutputName;
  datatype: (typeof OIP_OUTPUTS)[number]['datatype'];
  shape: number[];
  values: (number | boolean)[];
}

/** Output names a request asked for → the model's outputs, refusing an unknown one (422). */
export function checkOutputNames(names: readonly string[]): OipOutputName[] {
  const known: readonly string[] = OIP_OUTPUTS.map((o) => o.name);
  const bad = names.find((n) => !known.includes(n));
  if (bad !== undefined) throw new RuntimeError('invalid_request', `unknown output ${JSON.stringify(bad)}; the model's outputs are ${known.join(', ')}`);
  return names as OipOutputName[];
}

/** Predictions → the requested output tensors (all when none named), in metadata order. Pure. */
export function outputTensors(predictions: Prediction[], wanted?: readonly OipOutputName[]): OipOutputTensor[] {
  const n = predictions.length;
  const values: Record<OipOutputName, (number | boolean)[]> = {
    probabilities: predictions.flatMap((p) => p.probabilities),
    digit: predictions.map((p) => p.digit),
    confidence: predictions.map((p) => p.confidence),
    reliable: predictions.map((p) => p.reliable),
    predictive_entropy: predictions.map((p) => p.predictiveEntropy),
    mutual_information: predictions.map((p) => p.mutualInformation),
  };
  return OIP_OUTPUTS.filter((o) => !wanted || wanted.includes(o.name)).map((o) => ({
    name: o.name,
    datatype: o.datatype,
    shape: o.name === 'probabilities' ? [n, 10] : [n],
    values: values[o.name],
  }));
}
