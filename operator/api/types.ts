import type { z } from 'zod';
import type {
  AutoscalingSchema,
  CanarySchema,
  ConditionSchema,
  DigitModelSpecSchema,
  DigitModelStatusSchema,
  ParentRefSchema,
} from './schema.js';

/** TypeScript view of the DigitModel, inferred from the zod mirror of the CRD. */
export type DigitModelSpec = z.infer<typeof DigitModelSpecSchema>;
export type DigitModelStatus = z.infer<typeof DigitModelStatusSchema>;
export type Condition = z.infer<typeof ConditionSchema>;
export type CanarySpec = z.infer<typeof CanarySchema>;
export type AutoscalingSpec = z.infer<typeof AutoscalingSchema>;
export type ParentRef = z.infer<typeof ParentRefSchema>;
export type TrackStatus = NonNullable<DigitModelStatus['stable']>;
export type CanaryStatus = NonNullable<DigitModelStatus['canary']>;

export interface ObjectMeta {
  name: string;
  namespace: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  creationTimestamp?: string;
  deletionTimestamp?: string;
}

export interface DigitModel {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec: DigitModelSpec;
  status?: DigitModelStatus;
}

/** A Kubernetes object as JSON: what the builders produce and the caches hold. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    generation?: number;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: OwnerReference[];
    deletionTimestamp?: string;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}
