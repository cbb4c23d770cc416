import { scrapeTargets } from '../../../../operator/analysis/loop.js';
import { abortMessage, analysisInForce, canaryWeightInForce, checkStatuses, type AnalysisRecord } from '../../../../operator/analysis/record.js';
import type { DigitModel } from '../../../../operator/api/types.js';
import { desiredChildren } from '../../../../operator/children/index.js';
import { computeStatus } from '../../../../operator/status.js';
import { statusEvents } from '../../../../operator/status-events.js';
import { defaults, deployment, digitModel, find } from '../fixtures.js';

// What the analysis changes outside its pure core: the weight in force (replica split, HTTPRoute,
// effectiveWeight), the stable pods' mirroring, status.canary and the Degraded condition.

const analysed = (status?: DigitModel['status'], extra: Partial<NonNullable<DigitModel['spec']['canary']>['analysis']> = {}) => {
  const dm = digitModel({
    replicas: 10,
    canary: { version: '4', uri: 'pvc://models/mnist-cnn/4', weight: 10, analysis: { interval: '30s', stepWeight: 10, maxWeight: 50, mirrorPercent: 5, ...extra } },
    traffic: { parentRefs: [{ name: 'gw' }] },
  });
  if (status) dm.status = status;
  return dm;
};

const record = (phase: AnalysisRecord['state']['phase'], analysisWeight: number, more: Partial<AnalysisRecord> = {}): AnalysisRecord => ({
  state: { phase, analysisWeight, step: 2, failures: 0 },
  ...more,
});

type Env = { name: string; value?: string }[];
type Dep = { spec: { replicas: number; template: { spec: { containers: { env: Env }[] } } } };
type Route = { spec: { rules: { backendRefs: { name: string; weight: number }[] }[] } };

describe('the analysis in force', () => {
  test('starts at the spec weight (capped at maxWeight), then follows status, and the loop’s newest record wins', () => {
    expect(analysisInForce(analysed())?.state).toEqual({ phase: 'Progressing', analysisWeight: 10, step: 0, failures: 0 });
    const capped = analysed(undefined, { maxWeight: 5 });
    capped.spec.canary!.weight = 30;
    expect(analysisInForce(capped)?.state.analysisWeight).toBe(5);
    const fromStatus = analysed({ canary: { phase: 'Progressing', analysisWeight: 30, step: 2, failures: 1, checks: [{ name: 'errorRate', limit: 0.01, verdict: 'Pass', canary: 0 }] } });
    expect(analysisInForce(fromStatus)).toEqual({
      state: { phase: 'Progressing', analysisWeight: 30, step: 2, failures: 1 },
      checks: [{ name: 'errorRate', limit: 0.01, verdict: 'Pass', canary: 0 }],
    });
    const newest = record('Progressing', 40);
    expect(analysisInForce(fromStatus, newest)).toBe(newest);
  });

  test('starts again for a new canary version: status and records about another version are not in force', () => {
    const aborted = { canary: { analysisVersion: '4', phase: 'Aborted' as const, analysisWeight: 0, step: 0, failures: 2 } };
    expect(analysisInForce(analysed(aborted))?.state.phase).toBe('Aborted');
    const fixed = analysed(aborted);
    fixed.spec.canary!.version = '5';
    expect(analysisInForce(fixed)?.state).toEqual({ phase: 'Progressing', analysisWeight: 10, step: 0, failures: 0 });
    // a judgement of version 4 that lands after the edit is dropped; one of version 5 counts
    expect(analysisInForce(fixed, record('Aborted', 0, { version: '4' }))?.state.phase).toBe('Progressing');
    const five = record('Progressing', 20, { version: '5' });
    expect(analysisInForce(fixed, five)).toBe(five);
    // status.canary says which version its analysis fields are about
    const s = computeStatus(fixed, { deployments: {}, analysis: analysisInForce(fixed) }, new Date('2026-12-07T03:00:00Z'));
    expect(s.canary).toMatchObject({ analysisVersion: '5', phase: 'Progressing', analysisWeight: 10, failures: 0 });
    expect(s.conditions?.find((c) => c.type === 'Degraded')?.status).toBe('False');
    // status written before analysisVersion existed counts as about the current version
    expect(analysisInForce(analysed({ canary: { phase: 'Paused', analysisWeight: 50, step: 4, failures: 0 } }))?.state.phase).toBe('Paused');
  });

  test('is none without spec.canary.analysis: spec.canary.weight is in force', () => {
    const dm = digitModel({ canary: { version: '4', uri: 'pvc://models/mnist-cnn/4', weight: 25 } });
    expect(analysisInForce(dm)).toBeUndefined();
    expect(canaryWeightInForce(dm, undefined)).toBe(25);
  });

  test('drives the replica split and the HTTPRoute with analysisWeight, and the route gives a promoted canary everything', () => {
    const dm = analysed({ canary: { phase: 'Progressing', analysisWeight: 30, step: 2, failures: 0 } });
    const a = analysisInForce(dm);
    const facts = { canaryReady: true, canaryWeight: canaryWeightInForce(dm, a), promoted: false };
    const children = desiredChildren(dm, defaults, facts);
    expect(find<Dep>(children, 'Deployment', 'postcodes-canary').spec.replicas).toBe(3);
    expect(find<Dep>(children, 'Deployment', 'postcodes-stable').spec.replicas).toBe(7);
    expect(find<Route>(children, 'HTTPRoute', 'postcodes').spec.rules[0].backendRefs.map((b) => b.weight)).toEqual([70, 30]);
    const promoted = desiredChildren(dm, defaults, { ...facts, canaryWeight: 50, promoted: true });
    expect(find<Route>(promoted, 'HTTPRoute', 'postcodes').spec.rules[0].backendRefs.map((b) => b.weight)).toEqual([0, 100]);
    // without a Gateway the split stays at maxWeight (stable keeps its pods)
    expect(find<Dep>(promoted, 'Deployment', 'postcodes-stable').spec.replicas).toBe(5);
    const aborted = desiredChildren(dm, defaults, { ...facts, canaryWeight: 0 });
    expect(find<Dep>(aborted, 'Deployment', 'postcodes-canary').spec.replicas).toBe(0);
    expect(find<Route>(aborted, 'HTTPRoute', 'postcodes').spec.rules[0].backendRefs.map((b) => b.weight)).toEqual([100, 0]);
  });

  test('the stable pods mirror to the canary Service while a canary with analysis and mirroring exists, whatever its progress', () => {
    const env = (dm: DigitModel, track: 'stable' | 'canary', w = 30) =>
      Object.fromEntries(find<Dep>(desiredChildren(dm, defaults, { canaryReady: true, canaryWeight: w }), 'Deployment', `postcodes-${track}`).spec.template.spec.containers[0].env.map((e) => [e.name, e.value]));
    const dm = analysed();
    expect(env(dm, 'stable')).toMatchObject({ MIRROR_URL: 'http://postcodes-canary.mail.svc.cluster.local', MIRROR_PERCENT: '5' });
    expect(env(dm, 'canary').MIRROR_URL).toBeUndefined();
    // the weight in force does not touch stable's pod template: no roll per step
    const at = (w: number) => JSON.stringify(find<Dep>(desiredChildren(dm, defaults, { canaryReady: true, canaryWeight: w }), 'Deployment', 'postcodes-stable').spec.template);
    expect(at(10)).toBe(at(0));
    expect(env(analysed(undefined, { mirrorPercent: 0 }), 'stable').MIRROR_URL).toBeUndefined();
    expect(env(digitModel({ canary: { version: '4', uri: 'pvc://models/mnist-cnn/4', weight: 10 } }), 'stable').MIRROR_URL).toBeUndefined();
  });
});

describe('status.canary under analysis', () => {
  const now = new Date('2026-12-07T03:00:00Z');
  const observed = (analysis: AnalysisRecord) => ({
    deployments: { stable: deployment({ version: '3', replicas: 7 }), canary: deployment({ version: '4', replicas: 3 }) },
    routeCanaryWeight: 30,
    analysis,
  });

  test('reports phase, analysisWeight, step, failures and checks next to the requested weight', () => {
    const checks = checkStatuses([{ name: 'disagreement', canary: 0.004, stable: 0, limit: 0.02, verdict: 'Pass' }, { name: 'latencyP95', canary: null, stable: 12.3456789, limit: 250, verdict: 'Inconclusive', reason: 'no latency observations' }]);
    const s = computeStatus(analysed(), observed(record('Progressing', 30, { checks })), now);
    expect(s.canary).toMatchObject({ weight: 10, effectiveWeight: 30, phase: 'Progressing', analysisWeight: 30, step: 2, failures: 0 });
    expect(s.canary?.checks).toEqual([
      { name: 'disagreement', canary: 0.004, stable: 0, limit: 0.02, verdict: 'Pass' },
      { name: 'latencyP95', stable: 12.3457, limit: 250, verdict: 'Inconclusive', reason: 'no latency observations' },
    ]);
    expect(s.conditions?.find((c) => c.type === 'Degraded')?.status).toBe('False');
  });

  test('an abort is Degraded=True CanaryAborted naming the failed check and both values, without a second Event', () => {
    const failed = record('Aborted', 0, { state: { phase: 'Aborted', analysisWeight: 0, step: 0, failures: 2 }, checks: [{ name: 'disagreement', canary: 0.31, stable: 0, limit: 0.02, verdict: 'Fail' }] });
    const dm = analysed();
    const s = computeStatus(dm, observed(failed), now);
    const degraded = s.conditions?.find((c) => c.type === 'Degraded');
    expect(degraded).toMatchObject({ status: 'True', reason: 'CanaryAborted' });
    expect(degraded?.message).toBe(abortMessage(dm, failed));
    expect(degraded?.message).toContain('disagreement: canary 0.31 vs stable 0 (limit 0.02)');
    expect(s.canary).toMatchObject({ phase: 'Aborted', analysisWeight: 0, failures: 2 });
    // the analysis loop emits CanaryAborted itself; the status diff adds no ReconcileFailed
    expect(statusEvents(computeStatus(dm, observed(record('Progressing', 10)), now), s).map((e) => e.reason)).toEqual([]);
  });
});

describe('scrape targets from EndpointSlices', () => {
  test('ready endpoints only, one per pod, on the metrics port', () => {
    const slices = [
      {
        addressType: 'IPv4',
        endpoints: [
          { addresses: ['10.0.0.1'], conditions: { ready: true }, targetRef: { uid: 'a' } },
          { addresses: ['10.0.0.2'], conditions: { ready: false }, targetRef: { uid: 'b' } },
          { addresses: ['10.0.0.3'], targetRef: { uid: 'c' } },
          { addresses: [] },
        ],
      },
      { addressType: 'FQDN', endpoints: [{ addresses: ['x.example'], targetRef: { uid: 'd' } }] },
      { addressType: 'IPv4', endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: true }, targetRef: { uid: 'a' } }] },
    ];
    expect(scrapeTargets(slices)).toEqual([
      { pod: 'a', ip: '10.0.0.1', port: 9090 },
      { pod: 'c', ip: '10.0.0.3', port: 9090 },
    ]);
  });
});

describe('the operator gauges', () => {
  test('export each analysis (weight, phase, checks against limits) and only the current ones', async () => {
    const { OperatorMetrics } = await import('../../../../operator/metrics.js');
    const m = new OperatorMetrics();
    const dm = analysed();
    m.exportAnalysis([{ dm, record: record('Progressing', 30, { checks: [{ name: 'latencyP95', canary: 120, stable: 80, limit: 250, verdict: 'Pass' }, { name: 'disagreement', limit: 0.02, verdict: 'Inconclusive', reason: 'few' }] }) }]);
    const text = await m.registry.metrics();
    expect(text).toContain('digitserve_operator_canary_analysis_weight{namespace="mail",model="postcodes"} 30');
    expect(text).toContain('digitserve_operator_canary_analysis_phase{namespace="mail",model="postcodes",phase="Progressing"} 1');
    expect(text).toContain('digitserve_operator_canary_analysis_phase{namespace="mail",model="postcodes",phase="Aborted"} 0');
    expect(text).toContain('digitserve_operator_canary_check_value{namespace="mail",model="postcodes",check="latencyP95",track="canary"} 120');
    expect(text).toContain('digitserve_operator_canary_check_value{namespace="mail",model="postcodes",check="latencyP95",track="stable"} 80');
    expect(text).toContain('digitserve_operator_canary_check_limit{namespace="mail",model="postcodes",check="disagreement"} 0.02');
    expect(text).toContain('digitserve_operator_canary_check_verdict{namespace="mail",model="postcodes",check="disagreement"} 0');
    expect(text).not.toContain('check="disagreement",track=');
    m.exportAnalysis([]);
    expect(await m.registry.metrics()).not.toContain('model="postcodes"');
  });
});
