import { abortMessage, canaryWeightInForce, type AnalysisRecord } from './analysis/record.js';
import { CONDITION, REASON, type Track } from './api/constants.js';
import type { Condition, DigitModel, DigitModelStatus, KubeObject, TrackStatus } from './api/types.js';
import type { UnsupportedTrack } from './children/index.js';
import { allTracksSelector, selectorString } from './children/labels.js';
import { serviceUrl } from './children/names.js';
import { replicaRatioWeight, splitReplicas } from './children/replica-split.js';
import { mergeCondition, metaTime, type ConditionInput } from './conditions.js';
import { canonicalJson } from './drift.js';
import { failureMessage, type PodFailure } from './pod-failures.js';
import { trackRollout, type TrackRollout } from './rollout.js';

/** What the reconciler observed, the input of the pure status computation. */
export interface ObservedState {
  deployments: Partial<Record<Track, KubeObject>>;
  /** The canary weight in the applied HTTPRoute (only with spec.traffic). */
  routeCanaryWeight?: number;
  /** Why this reconcile failed, if it did. */
  error?: { reason: string; message: string };
  /** A promotion's handover: the canary Deployment kept serving the promoted version. */
  handover?: { version: string; canary: KubeObject };
  /** The latest failure of the DigitModel's runtime pods (their termination message), if any. */
  podFailure?: PodFailure;
  /** The canary analysis in force (spec.canary.analysis set): what status.canary reports of it. */
  analysis?: AnalysisRecord;
  /** Tracks in a format that needs the converter image, which the operator was not given (SPEC §7). */
  unsupported?: UnsupportedTrack[];
}

/** Why FormatNotSupported: which field asks for what, what is missing, and what happens to each track. */
export function formatNotSupportedMessage(dm: DigitModel, unsupported: UnsupportedTrack[]): string {
  const field = (u: UnsupportedTrack) => (u.track === 'stable' ? 'spec.model' : 'spec.canary');
  const parts = unsupported.map((u) => `${field(u)}.format is ${u.format} (version ${u.version})`);
  const tracks = unsupported.map((u) => u.track);
  const effect =
    tracks.includes('stable') && (tracks.includes('canary') || !dm.spec.canary)
      ? 'no track is deployed'
      : tracks.includes('stable')
        ? 'the stable track is not deployed; the canary track runs'
        : 'the canary track is not deployed; the stable track keeps serving';
  return (
    `${parts.join(' and ')}, which must be converted to TensorFlow.js when the pods start, but this operator has no converter image ` +
    `(set the chart value converter.image.repository, or the operator's --converter-image / CONVERTER_IMAGE): ${effect} ` +
    `(a Deployment that already exists for it is left unchanged)`
  );
}

interface TrackView {
  track: Track;
  version: string;
  desired: number;
  rollout?: TrackRollout;
  /** Available pods of the track's version kept from the canary during a promotion's handover. */
  handoverAvailable: number;
}

function tracksOf(dm: DigitModel, observed: ObservedState): TrackView[] {
  const split = splitReplicas(dm.spec.replicas ?? 1, canaryWeightInForce(dm, observed.analysis));
  const kept = observed.handover ? trackRollout(observed.handover.canary).availableReplicas : 0;
  const view = (track: Track, version: string): TrackView => {
    const dep = observed.deployments[track];
    return { track, version, desired: split[track], rollout: dep ? trackRollout(dep) : undefined, handoverAvailable: track === 'stable' ? kept : 0 };
  };
  const tracks = [view('stable', dm.spec.model.version)];
  if (dm.spec.canary) tracks.push(view('canary', dm.spec.canary.version));
  return tracks;
}

/** The track's rollout matches the current spec: right version, right replica count, finished. */
function rolledOut(t: TrackView): boolean {
  const r = t.rollout;
  return !!r && r.complete && r.templateVersion === t.version && r.desiredReplicas === t.desired;
}

function trackStatus(t: TrackView, previous: TrackStatus | undefined): TrackStatus {
  const r = t.rollout;
  // a version is reported only once a Deployment runs it completely; until then the old one stands
  const version = r && r.complete && r.templateVersion ? r.templateVersion : previous?.version;
  return { ...(version ? { version } : {}), replicas: r?.replicas ?? 0, readyReplicas: r?.readyReplicas ?? 0 };
}

/** A track's available pods, counting the canary pods a handover keeps serving its version. */
function available(t: TrackView): number {
  return (t.rollout?.availableReplicas ?? 0) + t.handoverAvailable;
}

/**
 * What the Ready message adds about uncertainty (SPEC §7): a SavedModel converts to a graph without
 * active dropout, so its track answers with uncertainty method "none" (no MC dropout). Pure.
 */
export function uncertaintyNote(dm: DigitModel): string {
  const none = [
    ...(dm.spec.model.format === 'savedmodel' ? ['stable'] : []),
    ...(dm.spec.canary?.format === 'savedmodel' ? ['canary'] : []),
  ];
  return none.length ? `; ${none.join(' and ')} (savedmodel) answer${none.length === 1 ? 's' : ''} with uncertainty method "none": no MC dropout` : '';
}

function readyCondition(dm: DigitModel, tracks: TrackView[]): ConditionInput {
  const note = uncertaintyNote(dm);
  const short = tracks.filter((t) => available(t) < t.desired || !t.rollout);
  if (short.length === 0) {
    const total = tracks.reduce((n, t) => n + t.desired, 0);
    return { type: CONDITION.ready, status: 'True', reason: REASON.allTracksAvailable, message: `${total} of ${total} desired pods available${note}` };
  }
  const message = short.map((t) => `${t.track}: ${available(t)}/${t.desired} pods available`).join('; ') + note;
  return { type: CONDITION.ready, status: 'False', reason: REASON.tracksUnavailable, message };
}

function progressingCondition(tracks: TrackView[], observed: ObservedState): ConditionInput {
  const blocked = new Set((observed.unsupported ?? []).map((u) => u.track));
  const stuck = tracks.find((t) => t.rollout?.deadlineExceeded && !blocked.has(t.track));
  if (stuck) {
    return {
      type: CONDITION.progressing,
      status: 'False',
      reason: REASON.progressDeadlineExceeded,
      message: `${stuck.track} version ${stuck.version} did not become ready in time: ${stuck.rollout?.deadlineMessage ?? ''}`.trim(),
    };
  }
  const pending = tracks.filter((t) => !rolledOut(t) && !blocked.has(t.track));
  if (pending.length > 0 || observed.handover) {
    const parts = pending.map((t) => `rolling out ${t.track} version ${t.version}`);
    const h = observed.handover;
    if (h) parts.push(`the promoted canary's pods (version ${h.version}) keep serving until stable runs it completely`);
    return { type: CONDITION.progressing, status: 'True', reason: REASON.rolloutInProgress, message: parts.join('; ') };
  }
  if (blocked.size > 0) {
    // nothing rolls out: a track waits for a converter image no reconcile can bring
    const message = tracks.map((t) => (blocked.has(t.track) ? `${t.track} version ${t.version} cannot be deployed (format not supported)` : `${t.track} runs version ${t.version}`)).join('; ');
    return { type: CONDITION.progressing, status: 'False', reason: REASON.formatNotSupported, message };
  }
  const message = tracks.map((t) => `${t.track} runs version ${t.version}`).join('; ');
  return { type: CONDITION.progressing, status: 'False', reason: REASON.rolloutComplete, message };
}

function degradedCondition(dm: DigitModel, tracks: TrackView[], observed: ObservedState): ConditionInput {
  if (observed.error) return { type: CONDITION.degraded, status: 'True', ...observed.error };
  if (observed.unsupported?.length) {
    return { type: CONDITION.degraded, status: 'True', reason: REASON.formatNotSupported, message: formatNotSupportedMessage(dm, observed.unsupported) };
  }
  if (observed.analysis?.state.phase === 'Aborted') {
    return { type: CONDITION.degraded, status: 'True', reason: REASON.canaryAborted, message: abortMessage(dm, observed.analysis) };
  }
  const failure = observed.podFailure ? failureMessage(observed.podFailure) : undefined;
  const stuck = tracks.find((t) => t.rollout?.deadlineExceeded);
  if (stuck) {
    return {
      type: CONDITION.degraded,
      status: 'True',
      reason: REASON.progressDeadlineExceeded,
      message: `${stuck.track} version ${stuck.version} never became ready; the previous pods keep serving${failure ? `; last failure: ${failure}` : ''}`,
    };
  }
  if (failure) return { type: CONDITION.degraded, status: 'True', reason: REASON.runtimeFailing, message: failure };
  return { type: CONDITION.degraded, status: 'False', reason: REASON.asExpected, message: '' };
}

/** The DigitModel's status from what its Deployments report. Pure; `now` stamps flipped conditions. */
export function computeStatus(dm: DigitModel, observed: ObservedState, now: Date): DigitModelStatus {
  const name = dm.metadata.name;
  const prev = dm.status ?? {};
  const generation = dm.metadata.generation ?? 0;
  const tracks = tracksOf(dm, observed);
  const stable = trackStatus(tracks[0], prev.stable);
  const kept = observed.handover ? trackRollout(observed.handover.canary) : undefined;
  const status: DigitModelStatus = {
    observedGeneration: generation,
    // every pod the selector matches, the canary pods a handover keeps included
    replicas: tracks.reduce((n, t) => n + (t.rollout?.replicas ?? 0), kept?.replicas ?? 0),
    readyReplicas: tracks.reduce((n, t) => n + (t.rollout?.readyReplicas ?? 0), kept?.readyReplicas ?? 0),
    selector: selectorString(allTracksSelector(name)),
    url: serviceUrl(name, dm.metadata.namespace),
    stable,
  };
  if (dm.spec.canary && tracks[1]) {
    const canary = trackStatus(tracks[1], prev.canary);
    const viaRoute = (dm.spec.traffic?.parentRefs?.length ?? 0) > 0;
    status.canary = {
      ...canary,
      weight: dm.spec.canary.weight,
      effectiveWeight: viaRoute
        ? (observed.routeCanaryWeight ?? 0)
        : replicaRatioWeight(stable.readyReplicas ?? 0, canary.readyReplicas ?? 0),
    };
    const a = observed.analysis;
    if (a) {
      Object.assign(status.canary, { analysisVersion: dm.spec.canary.version, phase: a.state.phase, analysisWeight: a.state.analysisWeight, step: a.state.step, failures: a.state.failures });
      if (a.checks) status.canary.checks = a.checks;
    }
  }
  const stamp = metaTime(now);
  status.conditions = [readyCondition(dm, tracks), progressingCondition(tracks, observed), degradedCondition(dm, tracks, observed)].map(
    (c): Condition => mergeCondition(prev.conditions, c, generation, stamp),
  );
  return status;
}

/** Whether two statuses are the same (key order ignored), so unchanged status is never written. */
export function sameStatus(a: DigitModelStatus | undefined, b: DigitModelStatus | undefined): boolean {
  return canonicalJson(a ?? {}) === canonicalJson(b ?? {});
}
