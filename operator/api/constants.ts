/** Contract constants of the DigitModel API (SPEC §2): import these, never retype them. */

export const GROUP = 'digitserve.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'DigitModel';
export const PLURAL = 'digitmodels';
export const CRD_NAME = `${PLURAL}.${GROUP}`;

export const FIELD_MANAGER = 'digitserve-operator';
export const CONTROLLER_NAME = 'digitmodel';

export const RUNTIME_APP_NAME = 'digitserve-runtime';

export const LABELS = {
  name: 'app.kubernetes.io/name',
  instance: 'app.kubernetes.io/instance',
  managedBy: 'app.kubernetes.io/managed-by',
  track: 'digitserve.dev/track',
  modelVersion: 'digitserve.dev/model-version',
} as const;

/** Annotation on each child holding a hash of the operator's desired fields (see drift.ts). */
export const DESIRED_HASH_ANNOTATION = 'digitserve.dev/desired-hash';

export const TRACKS = ['stable', 'canary'] as const;
export type Track = (typeof TRACKS)[number];

export const HTTP_PORT = 8080;
/** The runtime's OIP gRPC service (SPEC §7), exposed on the Services under the same number. */
export const GRPC_PORT = 8081;
export const METRICS_PORT = 9090;
export const SERVICE_PORT = 80;
export const MODEL_MOUNT_PATH = '/mnt/models';
/** The emptyDir the converter init container writes a keras/savedmodel artifact into, as TF.js (SPEC §7). */
export const CONVERTED_MOUNT_PATH = '/mnt/converted';

export const CONDITION = {
  ready: 'Ready',
  progressing: 'Progressing',
  degraded: 'Degraded',
} as const;
export type ConditionType = (typeof CONDITION)[keyof typeof CONDITION];

export const REASON = {
  allTracksAvailable: 'AllTracksAvailable',
  tracksUnavailable: 'TracksUnavailable',
  rolloutComplete: 'RolloutComplete',
  rolloutInProgress: 'RolloutInProgress',
  progressDeadlineExceeded: 'ProgressDeadlineExceeded',
  asExpected: 'AsExpected',
  reconcileError: 'ReconcileError',
  invalidSpec: 'InvalidSpec',
  runtimeFailing: 'RuntimeFailing',
  /** Canary analysis reached its failureLimit (SPEC §7). */
  canaryAborted: 'CanaryAborted',
  /** A track's spec.*.format needs the converter image, which this operator was not given (SPEC §7). */
  formatNotSupported: 'FormatNotSupported',
} as const;

/** Event reasons users see in `kubectl describe dm`. */
export const EVENT_REASON = {
  rolloutStarted: 'RolloutStarted',
  rolloutFinished: 'RolloutFinished',
  canaryWeightChanged: 'CanaryWeightChanged',
  canaryRemoved: 'CanaryRemoved',
  progressDeadlineExceeded: 'ProgressDeadlineExceeded',
  reconcileFailed: 'ReconcileFailed',
  runtimeFailing: 'RuntimeFailing',
  formatNotSupported: 'FormatNotSupported',
  recovered: 'Recovered',
} as const;

/** Pods metrics the HPA scales on (served by the runtime, exposed through a metrics adapter). */
export const HPA_METRIC = {
  queueDepth: 'digitserve_queue_depth',
  latencyP95: 'digitserve_request_latency_p95_seconds',
} as const;
