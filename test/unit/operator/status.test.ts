import type { Condition, DigitModel } from '../../../operator/api/types.js';
import { computeStatus, sameStatus } from '../../../operator/status.js';
import { deployment, digitModel } from './fixtures.js';

const T0 = new Date('2026-01-01T00:00:00.000Z');
const T1 = new Date('2026-01-01T00:05:00.000Z');
const canary = { version: '4', uri: 'pvc://models/mnist-cnn/4', weight: 10 };

function cond(status: { conditions?: Condition[] }, type: string): Condition {
  const c = status.conditions?.find((x) => x.type === type);
  if (!c) throw new Error(`no ${type}`);
  return c;
}

describe('computeStatus', () => {
  it('reports counts, selector, url, per-track versions and the replica-ratio effective weight (1 of 4 at weight 10 → 25)', () => {
    const dm = digitModel({ replicas: 4, canary });
    const s = computeStatus(dm, { deployments: { stable: deployment({ version: '3', replicas: 3 }), canary: deployment({ version: '4', replicas: 1 }) } }, T0);
    expect(s).toMatchObject({
      observedGeneration: 3,
      replicas: 4,
      readyReplicas: 4,
      selector: 'app.kubernetes.io/instance=postcodes,app.kubernetes.io/name=digitserve-runtime',
      url: 'http://postcodes.mail.svc.cluster.local',
      stable: { version: '3', replicas: 3, readyReplicas: 3 },
      canary: { version: '4', weight: 10, effectiveWeight: 25, replicas: 1, readyReplicas: 1 },
    });
    expect(cond(s, 'Ready')).toMatchObject({ status: 'True', reason: 'AllTracksAvailable', observedGeneration: 3 });
    expect(cond(s, 'Progressing')).toMatchObject({ status: 'False', reason: 'RolloutComplete' });
    expect(cond(s, 'Degraded')).toMatchObject({ status: 'False', reason: 'AsExpected' });
  });

  it('says in Ready which tracks answer without MC dropout (a savedmodel track: uncertainty method none)', () => {
    const deps = { stable: deployment({ version: '3', replicas: 3 }), canary: deployment({ version: '4', replicas: 1 }) };
    const tfjs = computeStatus(digitModel({ replicas: 4, canary }), { deployments: deps }, T0);
    expect(cond(tfjs, 'Ready').message).toBe('4 of 4 desired pods available');
    const dm = digitModel({ replicas: 4, model: { name: 'mnist-cnn', version: '3', uri: 'pvc://models/mnist-cnn/3', format: 'keras' }, canary: { ...canary, format: 'savedmodel' } });
    const s = computeStatus(dm, { deployments: deps }, T0);
    expect(cond(s, 'Ready')).toMatchObject({ status: 'True', message: '4 of 4 desired pods available; canary (savedmodel) answers with uncertainty method "none": no MC dropout' });
  });

  it('reports the HTTPRoute weight as effectiveWeight when a Gateway routes the traffic', () => {
    const dm = digitModel({ replicas: 4, canary, traffic: { parentRefs: [{ name: 'gw' }] } });
    const deps = { stable: deployment({ version: '3', replicas: 3 }), canary: deployment({ version: '4', replicas: 1 }) };
    expect(computeStatus(dm, { deployments: deps, routeCanaryWeight: 10 }, T0).canary?.effectiveWeight).toBe(10);
    expect(computeStatus(dm, { deployments: deps, routeCanaryWeight: 0 }, T0).canary?.effectiveWeight).toBe(0);
  });

  it('is not Ready until the pods are available', () => {
    const s = computeStatus(digitModel({ replicas: 2 }), { deployments: { stable: deployment({ version: '3', replicas: 2, ready: 0, updated: 2 }) } }, T0);
    expect(cond(s, 'Ready')).toMatchObject({ status: 'False', reason: 'TracksUnavailable', message: 'stable: 0/2 pods available' });
    expect(cond(s, 'Progressing')).toMatchObject({ status: 'True', reason: 'RolloutInProgress' });
    expect(s.stable?.version).toBeUndefined();
  });

  it('keeps reporting the old stable version until the new one has rolled out completely', () => {
    const dm: DigitModel = { ...digitModel({ replicas: 2, model: { name: 'mnist-cnn', version: '4', uri: 'pvc://models/mnist-cnn/4' } }), status: { stable: { version: '3' } } };
    // surge pod of version 4 not ready yet: 3 pods, 1 updated, 2 old available
    const rolling = deployment({ version: '4', replicas: 2, current: 3, updated: 1, ready: 2, available: 2 });
    const during = computeStatus(dm, { deployments: { stable: rolling } }, T0);
    expect(during.stable?.version).toBe('3');
    expect(cond(during, 'Progressing')).toMatchObject({ status: 'True', reason: 'RolloutInProgress' });
    expect(cond(during, 'Ready').status).toBe('True'); // the old pods keep serving
    // the controller has not observed the new template yet
    const unobserved = deployment({ version: '4', replicas: 2, generation: 3, observedGeneration: 2 });
    expect(computeStatus(dm, { deployments: { stable: unobserved } }, T0).stable?.version).toBe('3');
    const done = computeStatus(dm, { deployments: { stable: deployment({ version: '4', replicas: 2 }) } }, T0);
    expect(done.stable?.version).toBe('4');
    expect(cond(done, 'Progressing').reason).toBe('RolloutComplete');
  });

  it('turns Degraded when a version passes its progress deadline, while the old pods keep it Ready', () => {
    const dm: DigitModel = { ...digitModel({ replicas: 1, model: { name: 'mnist-cnn', version: '4', uri: 'pvc://models/mnist-cnn/4' } }), status: { stable: { version: '3' } } };
    const stuck = deployment({
      version: '4',
      replicas: 1,
      current: 2,
      updated: 1,
      ready: 1,
      available: 1,
      progressing: { reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "x-123" has timed out progressing.' },
    });
    const s = computeStatus(dm, { deployments: { stable: stuck } }, T0);
    expect(cond(s, 'Degraded')).toMatchObject({ status: 'True', reason: 'ProgressDeadlineExceeded' });
    expect(cond(s, 'Progressing')).toMatchObject({ status: 'False', reason: 'ProgressDeadlineExceeded' });
    expect(cond(s, 'Ready').status).toBe('True');
    expect(s.stable?.version).toBe('3');
  });

  it('surfaces reconcile errors as Degraded=True with reason ReconcileError', () => {
    const s = computeStatus(digitModel(), { deployments: {}, error: { reason: 'ReconcileError', message: 'apply Deployment: forbidden' } }, T0);
    expect(cond(s, 'Degraded')).toMatchObject({ status: 'True', reason: 'ReconcileError', message: 'apply Deployment: forbidden' });
  });

  it('moves lastTransitionTime only when a condition flips', () => {
    const dm = digitModel({ replicas: 1 });
    const first = computeStatus(dm, { deployments: { stable: deployment({ version: '3', replicas: 1, ready: 0 }) } }, T0);
    expect(cond(first, 'Ready')).toMatchObject({ status: 'False', lastTransitionTime: '2026-01-01T00:00:00Z' });
    const same = computeStatus({ ...dm, status: first }, { deployments: { stable: deployment({ version: '3', replicas: 1, ready: 0 }) } }, T1);
    expect(cond(same, 'Ready').lastTransitionTime).toBe('2026-01-01T00:00:00Z');
    expect(cond(same, 'Degraded').lastTransitionTime).toBe('2026-01-01T00:00:00Z');
    expect(sameStatus(first, same)).toBe(true);
    const flipped = computeStatus({ ...dm, status: first }, { deployments: { stable: deployment({ version: '3', replicas: 1 }) } }, T1);
    expect(cond(flipped, 'Ready')).toMatchObject({ status: 'True', lastTransitionTime: '2026-01-01T00:05:00Z' });
    expect(cond(flipped, 'Degraded').lastTransitionTime).toBe('2026-01-01T00:00:00Z');
    expect(sameStatus(first, flipped)).toBe(false);
  });

  it('drops status.canary once spec.canary is gone', () => {
    const dm: DigitModel = { ...digitModel({ replicas: 2 }), status: { canary: { version: '4', weight: 10 } } };
    expect(computeStatus(dm, { deployments: { stable: deployment({ version: '3', replicas: 2 }) } }, T0).canary).toBeUndefined();
  });
});
