import { analysisStatusFields } from './analysis.js';
import { int, obj, str, type SchemaNode } from './nodes.js';

/** `status` of a DigitModel, written by the operator only (SPEC §2). */

const trackFields = (): Record<string, SchemaNode> => ({
  version: str('Model version the track runs, reported once its rollout has completed.', 63),
  replicas: int('Pods of the track.', undefined, undefined, { format: 'int32' }),
  readyReplicas: int('Ready pods of the track.', undefined, undefined, { format: 'int32' }),
});

const condition = obj(
  'A metav1.Condition.',
  {
    type: str('Condition type (Ready, Progressing, Degraded).', 316),
    status: { description: 'True, False or Unknown.', type: 'string', enum: ['True', 'False', 'Unknown'] },
    observedGeneration: int('The metadata.generation the condition was set for.', 0, undefined, { format: 'int64' }),
    lastTransitionTime: { description: 'When the condition last changed status.', type: 'string', format: 'date-time' },
    reason: str("CamelCase reason for the condition's last transition.", 1024, { minLength: 1 }),
    message: str('Human-readable details.', 32768),
  },
  { required: ['type', 'status', 'lastTransitionTime', 'reason', 'message'], zodName: 'ConditionSchema' },
);

export const statusSchema: SchemaNode = obj(
  'Observed state, written by digitserve-operator.',
  {
    observedGeneration: int('The metadata.generation this status describes.', undefined, undefined, { format: 'int64' }),
    replicas: int('Pods existing across both tracks.', undefined, undefined, { format: 'int32' }),
    readyReplicas: int('Ready pods across both tracks.', undefined, undefined, { format: 'int32' }),
    selector: str('Label selector of all runtime pods of this DigitModel (for the scale subresource).', 1024),
    url: str('In-cluster URL of the Service that spreads traffic over both tracks.', 1024),
    stable: obj('The stable track. version is the version whose rollout completed.', trackFields()),
    canary: obj('The canary track, present while spec.canary is set; phase, analysisWeight, step, failures and checks while spec.canary.analysis is set.', {
      ...trackFields(),
      weight: int('The requested canary weight (spec.canary.weight).', undefined, undefined),
      effectiveWeight: int(
        'Share of traffic the canary actually gets, in percent: the HTTPRoute weight with spec.traffic, otherwise the canary\'s share of ready pods.',
        undefined,
        undefined,
      ),
      ...analysisStatusFields,
    }),
    conditions: {
      description: 'Ready, Progressing and Degraded, with metav1.Condition semantics.',
      type: 'array',
      maxItems: 8,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
      items: condition,
    },
  },
  { zodName: 'DigitModelStatusSchema' },
);
