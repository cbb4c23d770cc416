import { CONDITION, EVENT_REASON, REASON } from './api/constants.js';
import type { DigitModelStatus } from './api/types.js';
import { findCondition } from './conditions.js';

export interface EventSpec {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/**
 * The Events a status change deserves. Derived from transitions only, so a steady state (status
 * unchanged) yields none. Pure.
 */
export function statusEvents(prev: DigitModelStatus | undefined, next: DigitModelStatus): EventSpec[] {
  const events: EventSpec[] = [];
  const pProg = findCondition(prev?.conditions, CONDITION.progressing);
  const nProg = findCondition(next.conditions, CONDITION.progressing);
  if (nProg?.reason === REASON.rolloutInProgress && pProg?.reason !== REASON.rolloutInProgress) {
    events.push({ type: 'Normal', reason: EVENT_REASON.rolloutStarted, message: nProg.message });
  }
  if (nProg?.reason === REASON.rolloutComplete && pProg?.reason !== REASON.rolloutComplete) {
    events.push({ type: 'Normal', reason: EVENT_REASON.rolloutFinished, message: nProg.message });
  }
  const pw = prev?.canary?.weight;
  const nw = next.canary?.weight;
  if (pw !== undefined && nw !== undefined && pw !== nw) {
    events.push({ type: 'Normal', reason: EVENT_REASON.canaryWeightChanged, message: `canary weight changed from ${pw}% to ${nw}%` });
  }
  if (prev?.canary && !next.canary) {
    events.push({ type: 'Normal', reason: EVENT_REASON.canaryRemoved, message: `canary version ${prev.canary.version ?? ''} removed`.replace('  ', ' ') });
  }
  const pDeg = findCondition(prev?.conditions, CONDITION.degraded);
  const nDeg = findCondition(next.conditions, CONDITION.degraded);
  // an aborted analysis has its own Event (CanaryAborted, naming the check), from the analysis loop
  if (nDeg?.status === 'True' && nDeg.reason !== REASON.canaryAborted && (pDeg?.status !== 'True' || pDeg.reason !== nDeg.reason)) {
    const reason =
      nDeg.reason === REASON.progressDeadlineExceeded
        ? EVENT_REASON.progressDeadlineExceeded
        : nDeg.reason === REASON.runtimeFailing
          ? EVENT_REASON.runtimeFailing
          : nDeg.reason === REASON.formatNotSupported
            ? EVENT_REASON.formatNotSupported
            : EVENT_REASON.reconcileFailed;
    events.push({ type: 'Warning', reason, message: nDeg.message });
  }
  if (nDeg?.status === 'False' && pDeg?.status === 'True') {
    events.push({ type: 'Normal', reason: EVENT_REASON.recovered, message: `no longer degraded (was: ${pDeg.reason})` });
  }
  return events;
}
