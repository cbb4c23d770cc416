import { fileURLToPath } from 'node:url';
import type { V1Container, V1EnvVar, V1SecurityContext, V1VolumeMount } from '@kubernetes/client-node';
import { CONVERTED_MOUNT_PATH, MODEL_MOUNT_PATH } from '../api/constants.js';
import type { DigitModelSpec } from '../api/types.js';
import type { ModelSource } from './model-uri.js';

/** spec.model.format / spec.canary.format (SPEC §7); the CRD has no default, unset is tfjs. */
export type ModelFormat = NonNullable<DigitModelSpec['model']['format']>;

export const DEFAULT_MODEL_FORMAT: ModelFormat = 'tfjs';

/** The format a track's artifact is in, with the documented default applied. */
export function formatOf(track: { format?: ModelFormat }): ModelFormat {
  return track.format ?? DEFAULT_MODEL_FORMAT;
}

/** Formats the runtime cannot load itself: an init container converts them when the pod starts. */
export function needsConversion(format: ModelFormat): boolean {
  return format !== 'tfjs';
}

/** Name of the init container; pod-failures.ts reads its termination message. */
export const CONVERTER_CONTAINER = 'convert';

/** Volume (emptyDir) the converter writes the TF.js model into and the runtime reads it from. */
export const CONVERTED_VOLUME = 'converted';

/**
 * The init container's resources. Conversion imports TensorFlow and loads the model in Python:
 * measured with the converter image on an MNIST-sized CNN (test/import/make_models.py), a .keras
 * and a SavedModel convert under a 320 MiB memory limit and fail under 256 MiB; 512 MiB requested,
 * 1 GiB allowed leaves room for larger models. The pod's effective request is the larger of this
 * and the runtime's (init containers run before, not beside, the runtime).
 */
export const CONVERTER_RESOURCES = {
  requests: { cpu: '500m', memory: '512Mi' },
  limits: { memory: '1Gi' },
} as const;

/** The restricted-profile container security context the runtime and the converter share. */
export function restrictedContainerSecurity(): V1SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** Where the converter reads the artifact: a path in its own filesystem (pvc mount, file://) or the http(s) URL itself. */
export function converterSource(source: ModelSource): string {
  return source.runtimeUri.startsWith('file://') ? fileURLToPath(source.runtimeUri) : source.runtimeUri;
}

export interface ConverterTrack {
  /** spec.model.name: the name of a minimal metadata.json (the canary serves the same model). */
  name: string;
  version: string;
  format: ModelFormat;
  sha256?: string;
  authSecretRef?: { name: string; key: string };
}

/**
 * The init container converting a keras/savedmodel artifact into the `converted` emptyDir. It gets
 * the artifact the way the runtime would: a pvc:// claim mounted read-only at /mnt/models, an
 * http(s):// URL downloaded inside the container (with the track's Authorization header from its
 * Secret), a file:// path read in its own filesystem. The track's sha256 is the artifact's digest,
 * checked before converting; MODEL_NAME and MODEL_VERSION go into a metadata.json the artifact does not
 * bring (one it brings keeps its version, which the runtime checks against MODEL_VERSION).
 */
export function converterContainer(image: string, track: ConverterTrack, source: ModelSource): V1Container {
  const env: V1EnvVar[] = [
    { name: 'MODEL_NAME', value: track.name },
    { name: 'MODEL_VERSION', value: track.version },
    // Keras and TensorFlow write caches and config under $HOME; the root filesystem is read-only
    { name: 'HOME', value: '/tmp' },
  ];
  if (track.sha256) env.push({ name: 'ARTIFACT_SHA256', value: track.sha256 });
  if (track.authSecretRef) {
    env.push({ name: 'MODEL_AUTH_HEADER', valueFrom: { secretKeyRef: { name: track.authSecretRef.name, key: track.authSecretRef.key } } });
  }
  const mounts: V1VolumeMount[] = [
    { name: 'tmp', mountPath: '/tmp' },
    { name: CONVERTED_VOLUME, mountPath: CONVERTED_MOUNT_PATH },
  ];
  if (source.claim) mounts.push({ name: 'model', mountPath: MODEL_MOUNT_PATH, readOnly: true });
  return {
    name: CONVERTER_CONTAINER,
    image,
    imagePullPolicy: 'IfNotPresent',
    args: ['--format', track.format, '--from', converterSource(source), '--out', CONVERTED_MOUNT_PATH],
    env,
    resources: { requests: { ...CONVERTER_RESOURCES.requests }, limits: { ...CONVERTER_RESOURCES.limits } },
    // a failed conversion says why in its termination message; the operator puts it into Degraded
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'FallbackToLogsOnError',
    securityContext: restrictedContainerSecurity(),
    volumeMounts: mounts,
  };
}
