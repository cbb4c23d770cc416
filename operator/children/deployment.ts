import type { V1Deployment } from '@kubernetes/client-node';
import type { Track } from '../api/constants.js';
import type { DigitModel } from '../api/types.js';
import type { ChildDefaults } from './defaults.js';
import { trackLabels, trackSelector } from './labels.js';
import { childNames } from './names.js';
import { ownerReference } from './owner.js';
import { podTemplate, type TrackSpec } from './pod-template.js';

/** A track's Deployment: version-free selector, surge-only rolling updates so old pods serve until new ones are ready. */
export function trackDeployment(
  dm: DigitModel,
  track: Track,
  model: TrackSpec,
  replicas: number,
  d: ChildDefaults,
): V1Deployment {
  const name = dm.metadata.name;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: childNames.deployment(name, track),
      namespace: dm.metadata.namespace,
      labels: trackLabels(name, track),
      ownerReferences: [ownerReference(dm)],
    },
    spec: {
      replicas,
      selector: { matchLabels: trackSelector(name, track) },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' } },
      progressDeadlineSeconds: d.progressDeadlineSeconds,
      revisionHistoryLimit: 3,
      template: podTemplate(dm, track, model, d),
    },
  };
}
