/** The model's Open Inference Protocol tensors (SPEC §3), shared by the HTTP and gRPC edges. */

export const OIP_INPUTS = [
  { name: 'image', datatype: 'BYTES', shape: [-1] },
  { name: 'pixels', datatype: 'FP32', shape: [-1, 28, 28, 1] },
] as const;

/** The outputs, in the order the model metadata declares them. */
export const OIP_OUTPUTS = [
  { name: 'probabilities', datatype: 'FP32', shape: [-1, 10] },
  { name: 'digit', datatype: 'INT32', shape: [-1] },
  { name: 'confidence', datatype: 'FP32', shape: [-1] },
  { name: 'reliable', datatype: 'BOOL', shape: [-1] },
  { name: 'predictive_entropy', datatype: 'FP32', shape: [-1] },
  { name: 'mutual_information', datatype: 'FP32', shape: [-1] },
] as const;
export type OipOutputName = (typeof OIP_OUTPUTS)[number]['name'];

/** Metadata as both protocols list it (fresh arrays: callers may serialise or mutate them). */
export function tensorMetadata() {
  const copy = (t: { name: string; datatype: string; shape: readonly number[] }) => ({ name: t.name, datatype: t.datatype, shape: [...t.shape] });
  return { inputs: OIP_INPUTS.map(copy), outputs: OIP_OUTPUTS.map(copy) };
}

/** The platform string of model metadata. */
export const platformOf = (backend: string) => `tensorflowjs_layers_${backend}`;
