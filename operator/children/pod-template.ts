import type { V1Affinity, V1Container, V1PodTemplateSpec, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { CONVERTED_MOUNT_PATH, GRPC_PORT, HTTP_PORT, METRICS_PORT, MODEL_MOUNT_PATH, type Track } from '../api/constants.js';
import type { DigitModel } from '../api/types.js';
import { CONVERTED_VOLUME, converterContainer, formatOf, needsConversion, restrictedContainerSecurity, type ModelFormat } from './converter.js';
import type { ChildDefaults } from './defaults.js';
import { podLabels, trackSelector } from './labels.js';
import { resolveModelUri } from './model-uri.js';
import { RUNTIME_CONTAINER, runtimeEnv } from './runtime-env.js';

/**
 * The runtime image's user (Dockerfile.runtime: distroless `nonroot`, `USER 65532:65532`), numeric
 * so the kubelet can verify runAsNonRoot. The same UID as the image's, so nothing the image owns
 * or expects (its files are root-owned and world-readable) changes meaning with the template.
 */
export const RUNTIME_UID = 65532;

/** A track's model as the spec gives it (spec.model or spec.canary). */
export interface TrackSpec {
  version: string;
  uri: string;
  format?: ModelFormat;
  sha256?: string;
  authSecretRef?: { name: string; key: string };
}

function quantities(q: Record<string, string | number> | undefined): Record<string, string> | undefined {
  if (!q) return undefined;
  return Object.fromEntries(Object.entries(q).map(([k, v]) => [k, String(v)]));
}

/**
 * One track's pod template: the runtime container hardened to the restricted profile, plus spec.pod.
 * The root filesystem is read-only: the runtime itself writes no files; libvips (sharp) may spill
 * very large decodes to $TMPDIR (/tmp, an emptyDir here), and the failed-start reason goes to the
 * termination message file, which the kubelet mounts writable.
 * A keras or savedmodel track (SPEC §7) gets an init container running the converter image, which
 * reads the artifact (pvc mount, http(s) download, file path) and writes TF.js into an emptyDir; the
 * runtime then loads `file:///mnt/converted` from it, read-only, with no claim mounted and neither
 * the digest nor the credential (the converter checked and used them on the artifact). Callers
 * build such a track only with `d.converterImage` set (reconcile reports FormatNotSupported otherwise).
 */
export function podTemplate(dm: DigitModel, track: Track, model: TrackSpec, d: ChildDefaults): V1PodTemplateSpec {
  const name = dm.metadata.name;
  const spec = dm.spec;
  const pod = spec.pod ?? {};
  const version = model.version;
  const source = resolveModelUri(model.uri);
  const format = formatOf(model);
  const volumes: V1Volume[] = [{ name: 'tmp', emptyDir: {} }];
  const mounts: V1VolumeMount[] = [{ name: 'tmp', mountPath: '/tmp' }];
  if (source.claim) volumes.push({ name: 'model', persistentVolumeClaim: { claimName: source.claim, readOnly: true } });
  let initContainers: V1Container[] | undefined;
  let served = { runtimeUri: source.runtimeUri, sha256: model.sha256, authSecretRef: model.authSecretRef };
  if (needsConversion(format)) {
    if (!d.converterImage) throw new Error(`track ${track} has format ${format} but no converter image is configured`);
    volumes.push({ name: CONVERTED_VOLUME, emptyDir: {} });
    mounts.push({ name: CONVERTED_VOLUME, mountPath: CONVERTED_MOUNT_PATH, readOnly: true });
    initContainers = [converterContainer(d.converterImage, { name: spec.model.name, version, format, sha256: model.sha256, authSecretRef: model.authSecretRef }, source)];
    served = { runtimeUri: `file://${CONVERTED_MOUNT_PATH}`, sha256: undefined, authSecretRef: undefined };
  } else if (source.claim) {
    mounts.push({ name: 'model', mountPath: MODEL_MOUNT_PATH, readOnly: true });
  }
  const resources = spec.resources
    ? { requests: quantities(spec.resources.requests), limits: quantities(spec.resources.limits) }
    : undefined;
  return {
    metadata: {
      // the operator's labels win over spec.pod.labels: selectors depend on them
      labels: { ...(pod.labels ?? {}), ...podLabels(name, track, version) },
      annotations: {
        ...(pod.annotations ?? {}),
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': String(METRICS_PORT),
        'prometheus.io/path': '/metrics',
      },
    },
    spec: {
      ...(pod.serviceAccountName ? { serviceAccountName: pod.serviceAccountName } : {}),
      ...(pod.nodeSelector ? { nodeSelector: pod.nodeSelector } : {}),
      ...(pod.tolerations ? { tolerations: pod.tolerations } : {}),
      ...(pod.affinity ? { affinity: pod.affinity as V1Affinity } : {}),
      ...(pod.imagePullSecrets ? { imagePullSecrets: pod.imagePullSecrets } : {}),
      securityContext: {
        runAsNonRoot: true,
        runAsUser: RUNTIME_UID,
        runAsGroup: RUNTIME_UID,
        fsGroup: RUNTIME_UID,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      topologySpreadConstraints: [
        {
          maxSkew: 1,
          topologyKey: 'kubernetes.io/hostname',
          whenUnsatisfiable: 'ScheduleAnyway',
          labelSelector: { matchLabels: trackSelector(name, track) },
        },
      ],
      ...(initContainers ? { initContainers } : {}),
      containers: [
        {
          name: RUNTIME_CONTAINER,
          image: spec.image ?? d.image,
          imagePullPolicy: 'IfNotPresent',
          ports: [
            { name: 'http', containerPort: HTTP_PORT, protocol: 'TCP' },
            { name: 'grpc', containerPort: GRPC_PORT, protocol: 'TCP' },
            { name: 'metrics', containerPort: METRICS_PORT, protocol: 'TCP' },
          ],
          env: runtimeEnv(dm, track, { version, ...served }),
          ...(resources ? { resources } : {}),
          readinessProbe: {
            httpGet: { path: '/readyz', port: 'http', scheme: 'HTTP' },
            periodSeconds: 5,
            timeoutSeconds: 2,
            failureThreshold: 3,
          },
          livenessProbe: {
            httpGet: { path: '/healthz', port: 'http', scheme: 'HTTP' },
            periodSeconds: 10,
            timeoutSeconds: 2,
            failureThreshold: 3,
          },
          // model download and warm-up may take minutes; liveness starts only after this passes
          startupProbe: {
            httpGet: { path: '/healthz', port: 'http', scheme: 'HTTP' },
            periodSeconds: 5,
            timeoutSeconds: 2,
            failureThreshold: 60,
          },
          lifecycle: { preStop: { sleep: { seconds: d.preStopSleepSeconds } } },
          // the runtime writes why it refused to start there (e.g. a model that contradicts
          // MODEL_VERSION); the operator reads it from the pod's status into Degraded
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'FallbackToLogsOnError',
          securityContext: restrictedContainerSecurity(),
          volumeMounts: mounts,
        },
      ],
      volumes,
    },
  };
}
