import type { ServedModel } from '../config.js';
import type { PredictResponse } from './schemas/v1.js';
import type { InferResponse } from './schemas/oip.js';
import type { Prediction } from '../app/predict.js';

/** Predictions → the `:predict` body of SPEC §3. Pure. */
export function v1PredictBody(served: ServedModel, predictions: Prediction[]): PredictResponse {
  return {
    model: { name: served.name, storeName: served.storeName, version: served.version, track: served.track },
    predictions: predictions.map((p) => ({
      digit: p.digit,
      probability: p.probability,
      probabilities: p.probabilities,
      confidence: p.confidence,
      reliable: p.reliable,
      uncertainty: {
        method: 'mc-dropout' as const,
        samples: served.samples,
        predictiveEntropy: p.predictiveEntropy,
        expectedEntropy: p.expectedEntropy,
        mutualInformation: p.mutualInformation,
        variationRatio: p.variationRatio,
        stdDev: p.stdDev,
        ...p.evidence,
      },
    })),
  };
}

/** The OIP outputs, in the order the model metadata declares them. */
export const OIP_OUTPUTS = [
  { name: 'probabilities', datatype: 'FP32', shape: [-1, 10] },
  { name: 'digit', datatype: 'INT32', shape: [-1] },
  { name: 'confidence', datatype: 'FP32', shape: [-1] },
  { name: 'reliable', datatype: 'BOOL', shape: [-1] },
  { name: 'predictive_entropy', datatype: 'FP32', shape: [-1] },
  { name: 'mutual_information', datatype: 'FP32', shape: [-1] },
] as const;
export type OipOutputName = (typeof OIP_OUTPUTS)[number]['name'];

/** Predictions → an OIP infer response with the requested outputs (all when none named). Pure. */
export function oipInferBody(served: ServedModel, predictions: Prediction[], id: string | undefined, wanted?: OipOutputName[]): InferResponse {
  const n = predictions.length;
  const data: Record<OipOutputName, (number | boolean)[]> = {
    probabilities: predictions.flatMap((p) => p.probabilities),
    digit: predictions.map((p) => p.digit),
    confidence: predictions.map((p) => p.confidence),
    reliable: predictions.map((p) => p.reliable),
    predictive_entropy: predictions.map((p) => p.predictiveEntropy),
    mutual_information: predictions.map((p) => p.mutualInformation),
  };
  const outputs = OIP_OUTPUTS.filter((o) => !wanted || wanted.includes(o.name)).map((o) => ({
    name: o.name,
    datatype: o.datatype,
    shape: o.name === 'probabilities' ? [n, 10] : [n],
    data: data[o.name],
  }));
  return { model_name: served.name, model_version: served.version, ...(id !== undefined ? { id } : {}), outputs };
}
