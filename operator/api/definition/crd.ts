import { CRD_NAME, GROUP, KIND, PLURAL, VERSION } from '../constants.js';
import type { Rule, SchemaNode } from './nodes.js';
import { specSchema } from './spec.js';
import { statusSchema } from './status.js';

/**
 * The DigitModel CustomResourceDefinition: THE definition of the resource's schema. `npm run
 * generate` writes crds/digitmodels.digitserve.dev.yaml, the chart's templates/crd.yaml and the zod
 * mirror operator/api/schema.ts from it; test/unit/generate/ fails when one of them is stale.
 */

/** Rules on metadata.name: every child name derived from it must be valid (SPEC §2). */
export const nameRules: Rule[] = [
  {
    // Kubernetes 1.36 validates new Service names as DNS-1123 labels (RelaxedServiceNameValidation,
    // on by default; leading digits allowed). A DigitModel name is already a DNS-1123 subdomain, so
    // what a label refuses beyond that is a dot: `a.b` would be a valid DigitModel whose Services
    // could never be created.
    rule: "self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",
    message:
      "metadata.name must be a DNS-1123 label (lowercase letters, digits and '-', starting and ending with a letter or digit, no '.'): " +
      'it names the Services <name>, <name>-stable and <name>-canary, and Service names are DNS labels',
  },
  {
    rule: 'self.metadata.name.size() <= 56',
    message: 'metadata.name must be at most 56 characters, so that the child name <name>-canary stays a valid name',
  },
  {
    rule: "!self.metadata.name.endsWith('-stable') && !self.metadata.name.endsWith('-canary')",
    message: 'metadata.name must not end in -stable or -canary (those suffixes name the per-track children)',
  },
];

const root: SchemaNode = {
  description:
    'DigitModel serves a handwritten-digit classifier: a stable model version and an optional canary, reconciled by ' +
    'digitserve-operator into Deployments, Services, an optional HorizontalPodAutoscaler and HTTPRoute, and a PodDisruptionBudget.',
  type: 'object',
  required: ['spec'],
  'x-kubernetes-validations': nameRules,
  properties: {
    apiVersion: { description: 'APIVersion defines the versioned schema of this representation of an object.', type: 'string' },
    kind: { description: 'Kind is a string value representing the REST resource this object represents.', type: 'string' },
    metadata: { type: 'object' },
    spec: specSchema,
    status: statusSchema,
  },
};

const printerColumns = [
  { name: 'Version', type: 'string', description: 'Model version served by the stable track.', jsonPath: '.spec.model.version' },
  { name: 'Canary', type: 'string', description: 'Model version served by the canary track, if any.', jsonPath: '.spec.canary.version' },
  {
    name: 'Weight',
    type: 'integer',
    description: 'Percent of traffic requested for the canary (spec.canary.weight); with analysis the starting weight, and Analysis shows the weight in force.',
    jsonPath: '.spec.canary.weight',
  },
  { name: 'Replicas', type: 'integer', description: 'Desired pods across both tracks.', jsonPath: '.spec.replicas' },
  { name: 'Ready', type: 'integer', description: 'Ready pods across both tracks.', jsonPath: '.status.readyReplicas' },
  { name: 'Phase', type: 'string', description: 'Canary analysis phase: Progressing, Paused, Promoted or Aborted.', jsonPath: '.status.canary.phase' },
  { name: 'Analysis', type: 'integer', description: 'Canary weight in force while analysis runs (status.canary.analysisWeight).', jsonPath: '.status.canary.analysisWeight' },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
];

export interface CrdDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels: Record<string, string> };
  spec: {
    group: string;
    scope: 'Namespaced';
    names: Record<string, unknown>;
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      subresources: unknown;
      additionalPrinterColumns: unknown[];
      schema: { openAPIV3Schema: SchemaNode };
    }[];
  };
}

export const digitModelCrd: CrdDefinition = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: CRD_NAME, labels: { 'app.kubernetes.io/name': 'digitserve-operator', 'app.kubernetes.io/part-of': 'digitserve' } },
  spec: {
    group: GROUP,
    scope: 'Namespaced',
    names: { kind: KIND, listKind: `${KIND}List`, plural: PLURAL, singular: KIND.toLowerCase(), shortNames: ['dm'], categories: ['digitserve'] },
    versions: [
      {
        name: VERSION,
        served: true,
        storage: true,
        subresources: {
          status: {},
          scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' },
        },
        additionalPrinterColumns: printerColumns,
        schema: { openAPIV3Schema: root },
      },
    ],
  },
};
