import { z } from 'zod';

/**
 * zod mirror of crds/digitmodels.digitserve.dev.yaml (the source of truth); the unit test
 * crd-schema.test.ts fails when the two drift. Cross-field rules live in the CRD's CEL rules.
 */

const label63 = z.string().min(1).max(63).regex(/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/);
const uri = z.string().min(1).max(2048);
const quantity = z.union([z.int(), z.string().max(64)]);
const int32 = z.int();

export const ModelRefSchema = z.object({ name: z.string().min(1).max(63), version: label63, uri });
export const CanarySchema = z.object({ version: label63, uri, weight: z.int().min(0).max(100) });
export const InferenceSchema = z.object({
  samples: z.int().min(1).max(256).optional(),
  maxBatchSize: z.int().min(1).max(4096).optional(),
  batchTimeoutMs: z.int().min(0).max(60000).optional(),
  reliabilityThreshold: z.number().min(0).max(1).optional(),
});
export const AutoscalingSchema = z.object({
  minReplicas: int32.min(1).max(1000).optional(),
  maxReplicas: int32.min(1).max(1000),
  targetQueueDepth: z.number().gt(0).max(100000).optional(),
  targetLatencyMs: z.int().min(1).max(600000).optional(),
  scaleDownStabilizationSeconds: int32.min(0).max(3600).optional(),
});
export const ParentRefSchema = z.object({
  group: z.string().max(253).optional(),
  kind: z.string().max(63).optional(),
  namespace: z.string().max(63).optional(),
  name: z.string().min(1).max(253),
  sectionName: z.string().max(253).optional(),
  port: int32.min(1).max(65535).optional(),
});
export const TolerationSchema = z.object({
  key: z.string().max(317).optional(),
  operator: z.enum(['Exists', 'Equal']).optional(),
  value: z.string().max(63).optional(),
  effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional(),
  tolerationSeconds: z.int().optional(),
});
export const PodSchema = z.object({
  nodeSelector: z.record(z.string(), z.string().max(63)).optional(),
  tolerations: z.array(TolerationSchema).max(64).optional(),
  affinity: z.record(z.string(), z.unknown()).optional(),
  imagePullSecrets: z.array(z.object({ name: z.string().max(253) })).max(16).optional(),
  serviceAccountName: z.string().max(253).optional(),
  annotations: z.record(z.string(), z.string().max(4096)).optional(),
  labels: z.record(z.string(), z.string().max(63)).optional(),
});

export const DigitModelSpecSchema = z.object({
  replicas: int32.min(0).max(1000).optional(),
  model: ModelRefSchema,
  canary: CanarySchema.optional(),
  inference: InferenceSchema.optional(),
  autoscaling: AutoscalingSchema.optional(),
  traffic: z.object({ parentRefs: z.array(ParentRefSchema).max(16).optional() }).optional(),
  resources: z
    .object({ requests: z.record(z.string(), quantity).optional(), limits: z.record(z.string(), quantity).optional() })
    .optional(),
  image: z.string().min(1).max(512).optional(),
  pod: PodSchema.optional(),
});

const TrackStatusFields = {
  version: z.string().max(63).optional(),
  replicas: int32.optional(),
  readyReplicas: int32.optional(),
};

export const ConditionSchema = z.object({
  type: z.string().max(316),
  status: z.enum(['True', 'False', 'Unknown']),
  observedGeneration: z.int().min(0).optional(),
  lastTransitionTime: z.string(),
  reason: z.string().min(1).max(1024),
  message: z.string().max(32768),
});

export const DigitModelStatusSchema = z.object({
  observedGeneration: z.int().optional(),
  replicas: int32.optional(),
  readyReplicas: int32.optional(),
  selector: z.string().max(1024).optional(),
  url: z.string().max(1024).optional(),
  stable: z.object(TrackStatusFields).optional(),
  canary: z.object({ ...TrackStatusFields, weight: z.int().optional(), effectiveWeight: z.int().optional() }).optional(),
  conditions: z.array(ConditionSchema).max(8).optional(),
});
