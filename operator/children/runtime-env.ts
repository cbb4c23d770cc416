import { HTTP_PORT, METRICS_PORT, type Track } from '../api/constants.js';
import type { DigitModelSpec } from '../api/types.js';

export interface EnvVar {
  name: string;
  value: string;
}

/** The runtime's environment (SPEC §3): inference knobs only when set, so unset ones fall back to metadata.json. */
export function runtimeEnv(
  dmName: string,
  spec: DigitModelSpec,
  track: Track,
  version: string,
  modelUri: string,
): EnvVar[] {
  const env: EnvVar[] = [
    { name: 'PORT', value: String(HTTP_PORT) },
    { name: 'METRICS_PORT', value: String(METRICS_PORT) },
    { name: 'MODEL_URI', value: modelUri },
    { name: 'MODEL_NAME', value: dmName },
    { name: 'MODEL_VERSION', value: version },
    { name: 'MODEL_TRACK', value: track },
  ];
  const inf = spec.inference ?? {};
  const optional: [string, number | undefined][] = [
    ['MC_SAMPLES', inf.samples],
    ['MAX_BATCH_SIZE', inf.maxBatchSize],
    ['BATCH_TIMEOUT_MS', inf.batchTimeoutMs],
    ['RELIABILITY_THRESHOLD', inf.reliabilityThreshold],
  ];
  for (const [name, value] of optional) if (value !== undefined) env.push({ name, value: String(value) });
  return env;
}
