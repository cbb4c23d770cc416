import type { V2HorizontalPodAutoscaler, V2MetricSpec } from '@kubernetes/client-node';
import { API_VERSION, HPA_METRIC, KIND } from '../api/constants.js';
import type { AutoscalingSpec, DigitModel } from '../api/types.js';
import { commonLabels } from './labels.js';
import { childNames } from './names.js';
import { ownerReference } from './owner.js';
import { msToSecondsQuantity, toQuantity } from './quantity.js';

function podsMetric(name: string, averageValue: string): V2MetricSpec {
  return { type: 'Pods', pods: { metric: { name }, target: { type: 'AverageValue', averageValue } } };
}

/** Scale-down stabilization window when spec.autoscaling.scaleDownStabilizationSeconds is unset (SPEC §7). */
export const DEFAULT_SCALE_DOWN_STABILIZATION_SECONDS = 300;

/**
 * The HPA scales the DigitModel itself through its /scale subresource, so it sets the total and
 * the operator splits it by weight. Scale-up reacts at once; scale-down waits out the
 * stabilization window (default 5 minutes) of dips.
 */
export function autoscaler(dm: DigitModel, a: AutoscalingSpec): V2HorizontalPodAutoscaler {
  const name = dm.metadata.name;
  const metrics: V2MetricSpec[] = [];
  if (a.targetQueueDepth !== undefined) metrics.push(podsMetric(HPA_METRIC.queueDepth, toQuantity(a.targetQueueDepth)));
  if (a.targetLatencyMs !== undefined) metrics.push(podsMetric(HPA_METRIC.latencyP95, msToSecondsQuantity(a.targetLatencyMs)));
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: {
      name: childNames.hpa(name),
      namespace: dm.metadata.namespace,
      labels: commonLabels(name),
      ownerReferences: [ownerReference(dm)],
    },
    spec: {
      scaleTargetRef: { apiVersion: API_VERSION, kind: KIND, name },
      ...(a.minReplicas !== undefined ? { minReplicas: a.minReplicas } : {}),
      maxReplicas: a.maxReplicas,
      metrics,
      behavior: {
        scaleUp: {
          stabilizationWindowSeconds: 0,
          selectPolicy: 'Max',
          policies: [
            { type: 'Percent', value: 100, periodSeconds: 15 },
            { type: 'Pods', value: 4, periodSeconds: 15 },
          ],
        },
        scaleDown: {
          stabilizationWindowSeconds: a.scaleDownStabilizationSeconds ?? DEFAULT_SCALE_DOWN_STABILIZATION_SECONDS,
          selectPolicy: 'Max',
          policies: [{ type: 'Percent', value: 50, periodSeconds: 60 }],
        },
      },
    },
  };
}
