import type { V1EnvVar } from '@kubernetes/client-node';
import { GRPC_PORT, HTTP_PORT, METRICS_PORT, type Track } from '../api/constants.js';
import { settingsOf } from '../analysis/record.js';
import type { DigitModel } from '../api/types.js';
import { trackServiceUrl } from './names.js';

/** What one track serves: its version and where the runtime finds it. */
export interface TrackModel {
  version: string;
  /** MODEL_URI as the pod sees it (pvc:// already resolved to the mount). */
  runtimeUri: string;
  sha256?: string;
  authSecretRef?: { name: string; key: string };
}

/** Name of the runtime container; the downward API's resourceFieldRef names it. */
export const RUNTIME_CONTAINER = 'runtime';

/**
 * The runtime's environment (SPEC §3): inference knobs only when set, so unset ones fall back to
 * metadata.json; the pod's CPU limit through the downward API, so the runtime sizes its threads to
 * it; the model's digest and the private model server's credential when the track has them.
 */
export function runtimeEnv(dm: DigitModel, track: Track, model: TrackModel): V1EnvVar[] {
  const dmName = dm.metadata.name;
  const spec = dm.spec;
  const env: V1EnvVar[] = [
    { name: 'PORT', value: String(HTTP_PORT) },
    { name: 'METRICS_PORT', value: String(METRICS_PORT) },
    { name: 'GRPC_PORT', value: String(GRPC_PORT) },
    { name: 'MODEL_URI', value: model.runtimeUri },
    { name: 'MODEL_NAME', value: dmName },
    { name: 'MODEL_VERSION', value: model.version },
    { name: 'MODEL_TRACK', value: track },
    // without a cpu limit the downward API reports the node's allocatable CPU
    { name: 'CPU_LIMIT_MILLICORES', valueFrom: { resourceFieldRef: { containerName: RUNTIME_CONTAINER, resource: 'limits.cpu', divisor: '1m' } } },
  ];
  const inf = spec.inference ?? {};
  const optional: [string, number | undefined][] = [
    ['MC_SAMPLES', inf.samples],
    ['MAX_BATCH_SIZE', inf.maxBatchSize],
    ['BATCH_TIMEOUT_MS', inf.batchTimeoutMs],
    ['RELIABILITY_THRESHOLD', inf.reliabilityThreshold],
  ];
  for (const [name, value] of optional) if (value !== undefined) env.push({ name, value: String(value) });
  const mirror = mirrorEnv(dm, track);
  if (mirror) env.push(...mirror);
  if (model.sha256) env.push({ name: 'MODEL_SHA256', value: model.sha256 });
  if (model.authSecretRef) {
    // the kubelet resolves it; the operator never reads the Secret (and needs no RBAC on Secrets)
    env.push({ name: 'MODEL_AUTH_HEADER', valueFrom: { secretKeyRef: { name: model.authSecretRef.name, key: model.authSecretRef.key } } });
  }
  return env;
}

/**
 * Canary analysis (SPEC §7): while a canary with analysis and mirroring exists, the stable pods
 * mirror MIRROR_PERCENT of their :predict requests to the canary Service and count disagreements.
 * Only spec fields decide it, never the analysis' progress, so stable's pods roll once when such
 * a canary is added and once when it goes (with the promotion edit, which rolls them anyway).
 */
export function mirrorEnv(dm: DigitModel, track: Track): V1EnvVar[] | undefined {
  if (track !== 'stable' || !dm.spec.canary) return undefined;
  const s = settingsOf(dm);
  if (!s || s.mirrorPercent <= 0) return undefined;
  return [
    { name: 'MIRROR_URL', value: trackServiceUrl(dm.metadata.name, 'canary', dm.metadata.namespace) },
    { name: 'MIRROR_PERCENT', value: String(s.mirrorPercent) },
  ];
}
