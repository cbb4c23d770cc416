/**
 * Global setup of the unit-native project. Its tests load TensorFlow inside jest's sandbox, whose
 * `process.env` is a copy: selectBackend's `nativeTensorFlowSettings()`
 * (runtime/engine/tfjs-node-compat.ts) would not reach the C environment TensorFlow reads. This
 * runs in jest's own process, before the test processes exist, where it does: the inference defaults,
 * here because jest loads global setups without the project's module mapping.
 */
export default function nativeSetup(): void {
  process.env.TF_ENABLE_ONEDNN_OPTS ??= '0';
  process.env.TENSORFLOW_USE_CUSTOM_CONTRACTION_KERNEL ??= '0';
}
