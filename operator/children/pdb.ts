import type { V1PodDisruptionBudget } from '@kubernetes/client-node';
import type { DigitModel } from '../api/types.js';
import { allTracksSelector, commonLabels } from './labels.js';
import { childNames } from './names.js';
import { ownerReference } from './owner.js';

/** One pod at a time may be disrupted; unhealthy pods may always be evicted, so a drain never blocks on a one-pod track. */
export function disruptionBudget(dm: DigitModel): V1PodDisruptionBudget {
  const name = dm.metadata.name;
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: {
      name: childNames.pdb(name),
      namespace: dm.metadata.namespace,
      labels: commonLabels(name),
      ownerReferences: [ownerReference(dm)],
    },
    spec: {
      maxUnavailable: 1,
      selector: { matchLabels: allTracksSelector(name) },
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    },
  };
}
