import type { DigitModel, KubeObject } from '../api/types.js';
import type { ChildDefaults, ChildFacts } from './defaults.js';
import { trackDeployment } from './deployment.js';
import { autoscaler } from './hpa.js';
import { httpRoute } from './http-route.js';
import { disruptionBudget } from './pdb.js';
import { splitReplicas } from './replica-split.js';
import { allTracksService, trackService } from './services.js';

/** Everything a DigitModel should own, as plain objects ready for server-side apply. Pure. */
export function desiredChildren(dm: DigitModel, defaults: ChildDefaults, facts: ChildFacts = { canaryReady: false }): KubeObject[] {
  const spec = dm.spec;
  const split = splitReplicas(spec.replicas ?? 1, spec.canary ? (facts.canaryWeight ?? spec.canary.weight) : undefined);
  const out: unknown[] = [
    trackDeployment(dm, 'stable', spec.model, split.stable, defaults),
    allTracksService(dm),
    trackService(dm, 'stable'),
    disruptionBudget(dm),
  ];
  if (spec.canary) {
    out.push(trackDeployment(dm, 'canary', spec.canary, split.canary, defaults), trackService(dm, 'canary'));
  }
  if (spec.autoscaling) out.push(autoscaler(dm, spec.autoscaling));
  const parentRefs = spec.traffic?.parentRefs;
  if (parentRefs && parentRefs.length > 0) out.push(httpRoute(dm, parentRefs, facts));
  return out as KubeObject[];
}

export { DEFAULT_CHILD_DEFAULTS, type ChildDefaults, type ChildFacts } from './defaults.js';
