import { BATCH_TIMEOUT_MS, MAX_BATCH_SIZE, RELIABILITY_THRESHOLD, SAMPLES, SHA256_HEX_PATTERN } from '../../../runtime/limits.js';
import { analysisSchema, analysisWeightRule } from './analysis.js';
import { int, list, map, num, obj, str, type Rule, type SchemaNode } from './nodes.js';

/** `spec` of a DigitModel (SPEC §2, §7). Runtime-bound limits come from runtime/limits.ts. */

const LABEL_VALUE = '^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$';
const QUANTITY = '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$';

const uriRules: Rule[] = [
  { rule: "self.matches('^(pvc|https|http|file)://.+')", message: 'uri must start with one of the supported schemes pvc://, https://, http:// or file://' },
  {
    rule: "!self.startsWith('pvc://') || self.matches('^pvc://[a-z0-9]([-a-z0-9]*[a-z0-9])?(/.*)?$')",
    message: 'a pvc:// uri must be pvc://<claim>/<path> with a valid PersistentVolumeClaim name',
  },
];

const authOnlyOverHttp = (field: string): Rule => ({
  rule: "!has(self.authSecretRef) || self.uri.startsWith('http://') || self.uri.startsWith('https://')",
  message: `${field}.authSecretRef applies to http:// and https:// URIs only (other schemes send no request headers)`,
  fieldPath: '.authSecretRef',
});

/** spec.model.format / spec.canary.format (SPEC §7): no CRD default (SPEC §2's rule), the operator reads unset as tfjs. */
const MODEL_FORMATS = ['tfjs', 'keras', 'savedmodel'] as const;

const format = (track: string): SchemaNode => ({
  description:
    `Format of the ${track} artifact at uri. tfjs (unset means tfjs): a TensorFlow.js Layers model directory or its model.json, ` +
    'loaded by the runtime as is. keras: a Keras .keras or legacy .h5 file; savedmodel: a TensorFlow SavedModel directory ' +
    '(over http:// or https:// a .tar.gz, .tgz or .zip archive of it). keras and savedmodel are converted to TensorFlow.js when each pod ' +
    "starts, by an init container running the operator's converter image; an operator without one marks the DigitModel " +
    'Degraded with reason FormatNotSupported and creates no Deployment for the track.',
  type: 'string',
  enum: [...MODEL_FORMATS],
});

/** A Keras artifact is one file: its uri must name it (a query string, as in a pre-signed URL, may follow). */
const kerasFileRule = (field: string): Rule => ({
  rule: "!has(self.format) || self.format != 'keras' || self.uri.matches('[.](keras|h5)([?#].*)?$')",
  message: `${field}.format keras needs a uri naming a .keras or .h5 file`,
  fieldPath: '.uri',
});

/** A SavedModel directory has no single file to hash: sha256 with format savedmodel needs an archive. */
const savedModelDigestRule = (field: string): Rule => ({
  rule: "!has(self.sha256) || !has(self.format) || self.format != 'savedmodel' || self.uri.matches('[.](tar[.]gz|tgz|zip)([?#].*)?$')",
  message: `${field}.sha256 with format savedmodel needs a uri naming a .tar.gz, .tgz or .zip archive of the SavedModel (a directory has no single digest)`,
  fieldPath: '.sha256',
});

const version = (description: string) => str(description, 63, { minLength: 1, pattern: LABEL_VALUE });

const sha256 = (track: string) =>
  str(
    `SHA-256 digest of the ${track} model, as 64 lowercase hex digits (what sha256sum prints). Passed to the ` +
      'runtime as MODEL_SHA256; a runtime that loads a model with another digest refuses to start and says so ' +
      "in its termination message (docs/runtime.md says what is hashed). Unset: only the digests in the model's own metadata are checked. " +
      'With format keras or savedmodel it is the digest of the artifact file (the .keras or .h5 file, or the SavedModel archive), which ' +
      'the converter init container checks before converting; a SavedModel directory has no single digest, so sha256 needs an archive uri there.',
    64,
    { minLength: 64, pattern: SHA256_HEX_PATTERN },
  );

const authSecretRef = (track: string) =>
  obj(
    `Credential for a private model server (http:// or https:// URIs only): a key of a Secret in the DigitModel's ` +
      `namespace whose value is the full Authorization header value, for example "Bearer <token>" or "Basic <base64>". ` +
      `The ${track} pods get it as MODEL_AUTH_HEADER through a secretKeyRef; the operator never reads the Secret.`,
    {
      name: str('Name of the Secret.', 253, { minLength: 1, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$' }),
      key: str('Key within the Secret whose value is the Authorization header value.', 253, { minLength: 1, pattern: '^[-._a-zA-Z0-9]+$' }),
    },
    { required: ['name', 'key'], zodName: 'SecretKeyRefSchema' },
  );

const quantity: SchemaNode = {
  description: 'A resource quantity such as 500m, 2 or 256Mi.',
  anyOf: [{ type: 'integer' }, { type: 'string' }],
  maxLength: 64,
  pattern: QUANTITY,
  'x-kubernetes-int-or-string': true,
};

const model = obj(
  'The stable track\'s model.',
  {
    name: str('Name of the model in the model store (for example mnist-cnn).', 63, { minLength: 1 }),
    version: version('Model version; also the pods\' digitserve.dev/model-version label, so it must be a valid label value.'),
    uri: str('Where the model version lives: pvc://<claim>/<path> (mounted read-only), https://.../model.json, http://... or file:///....', 2048, {
      minLength: 1,
      'x-kubernetes-validations': uriRules,
    }),
    format: format('stable'),
    sha256: sha256('stable'),
    authSecretRef: authSecretRef('stable'),
  },
  {
    required: ['name', 'version', 'uri'],
    'x-kubernetes-validations': [authOnlyOverHttp('spec.model'), kerasFileRule('spec.model'), savedModelDigestRule('spec.model')],
    zodName: 'ModelRefSchema',
  },
);

const canary = obj(
  'Optional second track serving another version of the same model to a share of the traffic.',
  {
    version: version('Canary model version; must differ from spec.model.version.'),
    uri: str('Where the canary version lives, with the same schemes as spec.model.uri.', 2048, { minLength: 1, 'x-kubernetes-validations': uriRules }),
    weight: int(
      'Percent of traffic for the canary, 0-100. Exact with spec.traffic (HTTPRoute weights); otherwise approximated by the replica split. ' +
        'With spec.canary.analysis it is the starting weight and status.canary.analysisWeight is the weight in force.',
      0,
      100,
    ),
    format: format('canary'),
    sha256: sha256('canary'),
    authSecretRef: authSecretRef('canary'),
    analysis: analysisSchema,
  },
  {
    required: ['version', 'uri', 'weight'],
    'x-kubernetes-validations': [authOnlyOverHttp('spec.canary'), kerasFileRule('spec.canary'), savedModelDigestRule('spec.canary'), analysisWeightRule],
    zodName: 'CanarySchema',
  },
);

const inference = obj(
  "Runtime inference settings; every unset field falls back to the model's metadata.json.",
  {
    samples: int(`Monte-Carlo-dropout forward samples T per image (${SAMPLES.min}-${SAMPLES.max}).`, SAMPLES.min, SAMPLES.max),
    maxBatchSize: int(
      `Images per engine batch (a batching knob, not a request limit; ${MAX_BATCH_SIZE.min}-${MAX_BATCH_SIZE.max}).`,
      MAX_BATCH_SIZE.min,
      MAX_BATCH_SIZE.max,
    ),
    batchTimeoutMs: int(
      `Milliseconds the batcher waits to fill a batch (${BATCH_TIMEOUT_MS.min}-${BATCH_TIMEOUT_MS.max}).`,
      BATCH_TIMEOUT_MS.min,
      BATCH_TIMEOUT_MS.max,
    ),
    reliabilityThreshold: num(
      `Confidence below this marks a prediction reliable=false (${RELIABILITY_THRESHOLD.min}-${RELIABILITY_THRESHOLD.max}).`,
      RELIABILITY_THRESHOLD.min,
      RELIABILITY_THRESHOLD.max,
    ),
  },
  { zodName: 'InferenceSchema' },
);

const autoscaling = obj(
  'Creates a HorizontalPodAutoscaler that drives spec.replicas through the scale subresource. Omitted means spec.replicas is used as is.',
  {
    minReplicas: int("Lower bound for the total replica count (the HPA's default is 1).", 1, 1000, { format: 'int32' }),
    maxReplicas: int('Upper bound for the total replica count.', 1, 1000, { format: 'int32' }),
    targetQueueDepth: num('Target average of queued images per pod (metric digitserve_queue_depth).', 0, 100000, { exclusiveMinimum: true }),
    targetLatencyMs: int('Target per-pod p95 request latency in milliseconds (metric digitserve_request_latency_p95_seconds).', 1, 600000),
    scaleDownStabilizationSeconds: int(
      "Seconds the HPA looks back before scaling down (its behavior.scaleDown.stabilizationWindowSeconds), so short dips in load do not remove pods. Unset means 300; 0 scales down at once.",
      0,
      3600,
      { format: 'int32' },
    ),
  },
  {
    required: ['maxReplicas'],
    zodName: 'AutoscalingSchema',
    'x-kubernetes-validations': [
      { rule: '!has(self.minReplicas) || self.minReplicas <= self.maxReplicas', message: 'spec.autoscaling.minReplicas must be less than or equal to spec.autoscaling.maxReplicas' },
      { rule: 'has(self.targetQueueDepth) || has(self.targetLatencyMs)', message: 'spec.autoscaling needs at least one target, targetQueueDepth or targetLatencyMs' },
    ],
  },
);

const parentRef = obj(
  'A parent the HTTPRoute attaches to.',
  {
    group: str('Group of the parent resource (default gateway.networking.k8s.io).', 253),
    kind: str('Kind of the parent resource (default Gateway).', 63),
    namespace: str("Namespace of the parent (default the DigitModel's namespace).", 63),
    name: str('Name of the parent resource.', 253, { minLength: 1 }),
    sectionName: str('Listener name within the parent.', 253),
    port: int('Listener port within the parent.', 1, 65535, { format: 'int32' }),
  },
  { required: ['name'], zodName: 'ParentRefSchema' },
);

const toleration = obj(
  'A toleration, as in a Pod spec.',
  {
    key: str('Taint key the toleration applies to; empty matches all keys.', 317),
    operator: { description: 'Exists or Equal (default Equal).', type: 'string', enum: ['Exists', 'Equal'] },
    value: str('Taint value the toleration matches.', 63),
    effect: { description: 'Taint effect to match; empty matches all effects.', type: 'string', enum: ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] },
    tolerationSeconds: int('For NoExecute, how long the pod stays bound after the taint appears.', undefined, undefined, { format: 'int64' }),
  },
  { zodName: 'TolerationSchema' },
);

const pod = obj(
  "Pass-through settings for both tracks' pod templates.",
  {
    nodeSelector: map('Node labels the pods must match.', { type: 'string', maxLength: 63 }, 64),
    tolerations: list('Tolerations, as in a Pod spec.', toleration, 64),
    affinity: {
      description: 'Pod affinity and anti-affinity and node affinity, as in a Pod spec (passed through unvalidated).',
      type: 'object',
      'x-kubernetes-preserve-unknown-fields': true,
    },
    imagePullSecrets: list(
      'Secrets for pulling the runtime image.',
      obj('A Secret reference.', { name: str("Name of a Secret in the DigitModel's namespace.", 253) }, { required: ['name'] }),
      16,
    ),
    serviceAccountName: str('ServiceAccount the runtime pods run as.', 253),
    annotations: map('Extra annotations on the pods.', { type: 'string', maxLength: 4096 }, 64),
    labels: map("Extra labels on the pods (the operator's own labels win).", { type: 'string', maxLength: 63 }, 64),
  },
  { zodName: 'PodSchema' },
);

export const specSchema: SchemaNode = obj(
  'Desired state of the served model.',
  {
    replicas: int(
      'Total pods across the stable and canary tracks. Written by the HorizontalPodAutoscaler through the scale subresource when spec.autoscaling is set.',
      0,
      1000,
      { format: 'int32', default: 1 },
    ),
    model,
    canary,
    inference,
    autoscaling,
    traffic: obj('Gateway API routing; when parentRefs is set the operator owns an HTTPRoute with exact canary weights.', {
      parentRefs: list('Gateways (or other parents) the HTTPRoute attaches to, as in HTTPRoute.spec.parentRefs.', parentRef, 16),
    }),
    resources: obj('Compute resources of the runtime container in both tracks.', {
      requests: map('Minimum resources, for example cpu 500m, memory 256Mi.', quantity, 16),
      limits: map(
        'Maximum resources, for example memory 512Mi. The runtime sizes its thread pools from the cpu limit (passed as CPU_LIMIT_MILLICORES).',
        quantity,
        16,
      ),
    }),
    image: str("Runtime container image; overrides the operator's default image.", 512, { minLength: 1 }),
    pod,
  },
  {
    required: ['model'],
    zodName: 'DigitModelSpecSchema',
    'x-kubernetes-validations': [
      {
        rule: '!has(self.canary) || self.canary.version != self.model.version',
        message: 'spec.canary.version must differ from spec.model.version; to promote, move the canary into spec.model and remove spec.canary in one edit',
        fieldPath: '.canary.version',
      },
    ],
  },
);
