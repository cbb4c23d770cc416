/**
 * Which tfjs backend to use (`TFJS_BACKEND`). No tfjs import here: the server's main thread reads
 * this, and only the engine worker loads tfjs (backend.ts).
 * `auto`: native TensorFlow (@tensorflow/tfjs-node) when it is installed, else wasm.
 */
export const BACKEND_PREFERENCES = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendPreference = (typeof BACKEND_PREFERENCES)[number];

/** `TFJS_BACKEND` (auto | tensorflow | wasm | cpu; unset or empty: auto). Throws on anything else. */
export function backendPreferenceFromEnv(env: NodeJS.ProcessEnv = process.env): BackendPreference {
  const v = env.TFJS_BACKEND?.trim() || 'auto';
  if (!(BACKEND_PREFERENCES as readonly string[]).includes(v)) throw new Error(`TFJS_BACKEND must be one of ${BACKEND_PREFERENCES.join(', ')}, not '${v}'`);
  return v as BackendPreference;
}
