import type { Track } from '../api/constants.js';
import type { DigitModel, KubeObject } from '../api/types.js';
import { formatOf, needsConversion, type ModelFormat } from './converter.js';
import type { ChildDefaults, ChildFacts } from './defaults.js';
import { trackDeployment } from './deployment.js';
import { autoscaler } from './hpa.js';
import { httpRoute } from './http-route.js';
import { disruptionBudget } from './pdb.js';
import { splitReplicas } from './replica-split.js';
import { allTracksService, trackService } from './services.js';

/** A track whose format needs the converter image, which the operator was not given (SPEC §7). */
export interface UnsupportedTrack {
  track: Track;
  version: string;
  format: ModelFormat;
}

/** The tracks this operator cannot deploy: keras/savedmodel without a converter image. Pure. */
export function unsupportedTracks(dm: DigitModel, defaults: ChildDefaults): UnsupportedTrack[] {
  if (defaults.converterImage) return [];
  const tracks: [Track, { version: string; format?: ModelFormat } | undefined][] = [
    ['stable', dm.spec.model],
    ['canary', dm.spec.canary],
  ];
  return tracks
    .filter(([, m]) => m && needsConversion(formatOf(m)))
    .map(([track, m]) => ({ track, version: m!.version, format: formatOf(m!) }));
}

/**
 * Everything a DigitModel should own, as plain objects ready for server-side apply. Pure. A track
 * in a format this operator cannot convert (no converter image) gets no Deployment — pods that
 * could only crash-loop — while its Service and the other track's children are built as usual;
 * the reconciler leaves such a track's existing Deployment alone and reports FormatNotSupported.
 */
export function desiredChildren(dm: DigitModel, defaults: ChildDefaults, facts: ChildFacts = { canaryReady: false }): KubeObject[] {
  const spec = dm.spec;
  const split = splitReplicas(spec.replicas ?? 1, spec.canary ? (facts.canaryWeight ?? spec.canary.weight) : undefined);
  const unsupported = new Set(unsupportedTracks(dm, defaults).map((u) => u.track));
  const out: unknown[] = [allTracksService(dm), trackService(dm, 'stable'), disruptionBudget(dm)];
  if (!unsupported.has('stable')) out.unshift(trackDeployment(dm, 'stable', spec.model, split.stable, defaults));
  if (spec.canary) {
    if (!unsupported.has('canary')) out.push(trackDeployment(dm, 'canary', spec.canary, split.canary, defaults));
    out.push(trackService(dm, 'canary'));
  }
  if (spec.autoscaling) out.push(autoscaler(dm, spec.autoscaling));
  const parentRefs = spec.traffic?.parentRefs;
  if (parentRefs && parentRefs.length > 0) out.push(httpRoute(dm, parentRefs, facts));
  return out as KubeObject[];
}

export { DEFAULT_CHILD_DEFAULTS, type ChildDefaults, type ChildFacts } from './defaults.js';
