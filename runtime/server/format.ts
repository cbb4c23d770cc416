import type { ServedModel } from '../config.js';
import type { PredictResponse } from './schemas/v1.js';
import type { InferResponse } from './schemas/oip.js';
import type { Prediction } from '../app/predict.js';
import { encodeFixed } from '../oip/binary-tensor.js';
import { outputTensors } from '../oip/tensor-outputs.js';
import type { OipOutputName } from '../oip/tensors.js';

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
      // a model without active dropout has no MC figures to report (SPEC §7)
      uncertainty:
        served.uncertainty === 'none'
          ? { method: 'none' as const, ...p.evidence }
          : {
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

export { OIP_OUTPUTS, type OipOutputName } from '../oip/tensors.js';

/**
 * Predictions → an OIP infer response with the requested outputs (all when none named). Outputs
 * for which `binary(name)` holds carry `parameters.binary_data_size` instead of `data`; their raw
 * bytes, in output order, are `binary` (the binary tensor data extension). Pure.
 */
export function oipInferAnswer(
  served: ServedModel,
  predictions: Prediction[],
  id: string | undefined,
  wanted?: OipOutputName[],
  binary: (name: OipOutputName) => boolean = () => false,
): { header: InferResponse; binary?: Buffer } {
  const parts: Buffer[] = [];
  const outputs = outputTensors(predictions, wanted).map((t) => {
    if (!binary(t.name)) return { name: t.name, datatype: t.datatype, shape: t.shape, data: t.values };
    const raw = encodeFixed(t.datatype, t.values);
    parts.push(raw);
    return { name: t.name, datatype: t.datatype, shape: t.shape, parameters: { binary_data_size: raw.length } };
  });
  const header: InferResponse = { model_name: served.name, model_version: served.version, ...(id !== undefined ? { id } : {}), outputs };
  return parts.length ? { header, binary: Buffer.concat(parts) } : { header };
}

/** Predictions → an OIP infer response in JSON alone. Pure. */
export function oipInferBody(served: ServedModel, predictions: Prediction[], id: string | undefined, wanted?: OipOutputName[]): InferResponse {
  return oipInferAnswer(served, predictions, id, wanted).header;
}
