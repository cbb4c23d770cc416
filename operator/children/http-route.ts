import { SERVICE_PORT } from '../api/constants.js';
import type { DigitModel, KubeObject, ParentRef } from '../api/types.js';
import type { ChildFacts } from './defaults.js';
import { commonLabels } from './labels.js';
import { childNames } from './names.js';
import { ownerReference } from './owner.js';

export const HTTP_ROUTE_API_VERSION = 'gateway.networking.k8s.io/v1';

/**
 * The canary's HTTPRoute weight: the weight in force (the requested one, or the analysis' weight),
 * 100 once the analysis promoted the canary, but 0 until the canary has a ready pod; during a
 * promotion's handover, the weight the route already gives the kept canary.
 */
export function routeCanaryWeight(dm: DigitModel, facts: ChildFacts): number {
  if (!dm.spec.canary) return facts.handoverRouteWeight ?? 0;
  if (!facts.canaryReady) return 0;
  return facts.promoted ? 100 : (facts.canaryWeight ?? dm.spec.canary.weight);
}

/** Exact traffic split through a Gateway: backends `<name>-stable` and `<name>-canary` weighted 100-w / w. */
export function httpRoute(dm: DigitModel, parentRefs: ParentRef[], facts: ChildFacts): KubeObject {
  const name = dm.metadata.name;
  const w = routeCanaryWeight(dm, facts);
  const backendRefs = [{ name: childNames.trackService(name, 'stable'), port: SERVICE_PORT, weight: 100 - w }];
  if (dm.spec.canary || facts.handoverRouteWeight !== undefined) backendRefs.push({ name: childNames.trackService(name, 'canary'), port: SERVICE_PORT, weight: w });
  return {
    apiVersion: HTTP_ROUTE_API_VERSION,
    kind: 'HTTPRoute',
    metadata: {
      name: childNames.httpRoute(name),
      namespace: dm.metadata.namespace,
      labels: commonLabels(name),
      ownerReferences: [ownerReference(dm)],
    },
    spec: { parentRefs, rules: [{ backendRefs }] },
  };
}
