/**
 * The backend the engine tests run on: the jest project `unit-native` sets
 * `globals.digitserveBackend: 'tensorflow'` (native TensorFlow through @tensorflow/tfjs-node,
 * installed by `npm run setup:native`); the `unit` project runs them on wasm.
 */
export const testBackend: 'tensorflow' | 'wasm' =
  (globalThis as { digitserveBackend?: string }).digitserveBackend === 'tensorflow' ? 'tensorflow' : 'wasm';
