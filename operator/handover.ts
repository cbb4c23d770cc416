import type { DigitModel, KubeObject } from './api/types.js';
import { childNames } from './children/names.js';
import { isControlledBy } from './children/owner.js';
import { trackRollout } from './rollout.js';

/**
 * A promotion's handover (#15 item 2). Promotion is one edit: spec.model takes the canary's
 * version and spec.canary goes. The canary's pods already serve that version, while the stable
 * Deployment's new pods may take minutes to load it; deleting the canary at once would take
 * serving pods away before their replacements are ready. So while the stable Deployment has not
 * rolled the promoted version out completely (every replica updated and available), the canary
 * Deployment and Service stay as they are (at their replica count, and at their HTTPRoute weight
 * with a Gateway), and only then go.
 */
export interface Handover {
  /** The promoted version the kept canary pods serve. */
  version: string;
  /** The canary Deployment as the cluster holds it. */
  canary: KubeObject;
  /** The canary backend's weight in the live HTTPRoute (if it has one), kept until the handover ends. */
  routeCanaryWeight?: number;
}

/** The live objects a handover depends on (from the informer caches). */
export interface HandoverFacts {
  stable?: KubeObject;
  canary?: KubeObject;
  route?: KubeObject;
}

type RouteLike = { spec?: { rules?: { backendRefs?: { name?: string; weight?: number }[] }[] } };

function liveCanaryWeight(dm: DigitModel, route: KubeObject | undefined): number | undefined {
  const canaryService = childNames.trackService(dm.metadata.name, 'canary');
  for (const rule of (route as RouteLike | undefined)?.spec?.rules ?? []) {
    const ref = rule.backendRefs?.find((b) => b.name === canaryService);
    if (ref) return ref.weight ?? 1;
  }
  return undefined;
}

/** The handover in progress, if any. Pure. */
export function promotionHandover(dm: DigitModel, facts: HandoverFacts): Handover | undefined {
  const { stable, canary } = facts;
  if (dm.spec.canary || !canary || canary.metadata.deletionTimestamp) return undefined;
  if (!isControlledBy(canary.metadata.ownerReferences, dm.metadata.uid)) return undefined;
  const version = trackRollout(canary).templateVersion;
  // a canary removed without promoting it (another version than spec.model's) goes at once
  if (version === undefined || version !== dm.spec.model.version) return undefined;
  const r = stable ? trackRollout(stable) : undefined;
  const done = !!r && r.complete && r.templateVersion === version && r.desiredReplicas === (dm.spec.replicas ?? 1);
  return done ? undefined : { version, canary, routeCanaryWeight: liveCanaryWeight(dm, facts.route) };
}

/** The children a handover keeps (kind/name, as the reconciler's wanted set spells them). */
export function handoverKeeps(dm: DigitModel): string[] {
  const name = dm.metadata.name;
  return [`Deployment/${childNames.deployment(name, 'canary')}`, `Service/${childNames.trackService(name, 'canary')}`];
}
