import type { Condition, DigitModelStatus } from '../../../operator/api/types.js';
import { statusEvents } from '../../../operator/status-events.js';

const c = (type: string, status: 'True' | 'False', reason: string, message = ''): Condition => ({ type, status, reason, message, lastTransitionTime: '2026-01-01T00:00:00Z' });
const steady: DigitModelStatus = {
  canary: { version: '4', weight: 10 },
  conditions: [c('Ready', 'True', 'AllTracksAvailable'), c('Progressing', 'False', 'RolloutComplete', 'stable runs version 3'), c('Degraded', 'False', 'AsExpected')],
};

describe('statusEvents', () => {
  it('emits nothing when nothing changed', () => {
    expect(statusEvents(steady, structuredClone(steady))).toEqual([]);
  });
  it('announces rollout start and finish', () => {
    const rolling = { ...steady, conditions: [steady.conditions![0], c('Progressing', 'True', 'RolloutInProgress', 'rolling out stable version 4'), steady.conditions![2]] };
    expect(statusEvents(steady, rolling)).toEqual([{ type: 'Normal', reason: 'RolloutStarted', message: 'rolling out stable version 4' }]);
    expect(statusEvents(rolling, steady).map((e) => e.reason)).toEqual(['RolloutFinished']);
  });
  it('announces canary weight changes and removal', () => {
    expect(statusEvents(steady, { ...steady, canary: { version: '4', weight: 20 } })).toEqual([
      { type: 'Normal', reason: 'CanaryWeightChanged', message: 'canary weight changed from 10% to 20%' },
    ]);
    expect(statusEvents(steady, { ...steady, canary: undefined }).map((e) => e.reason)).toEqual(['CanaryRemoved']);
  });
  it('warns when a version misses its progress deadline and notes recovery', () => {
    const degraded = { ...steady, conditions: [steady.conditions![0], steady.conditions![1], c('Degraded', 'True', 'ProgressDeadlineExceeded', 'never ready')] };
    expect(statusEvents(steady, degraded)).toEqual([{ type: 'Warning', reason: 'ProgressDeadlineExceeded', message: 'never ready' }]);
    expect(statusEvents(degraded, steady).map((e) => e.reason)).toEqual(['Recovered']);
  });
  it('warns on reconcile failures', () => {
    const failed = { ...steady, conditions: [steady.conditions![0], steady.conditions![1], c('Degraded', 'True', 'ReconcileError', 'boom')] };
    expect(statusEvents(steady, failed)).toEqual([{ type: 'Warning', reason: 'ReconcileFailed', message: 'boom' }]);
  });
});
