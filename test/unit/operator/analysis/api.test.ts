import type { z } from 'zod';
import { DURATION_PATTERN, analysisSchema } from '../../../../operator/api/definition/analysis.js';
import type { SchemaNode } from '../../../../operator/api/definition/nodes.js';
import { AnalysisSchema, CanarySchema, CheckStatusSchema, DigitModelStatusSchema } from '../../../../operator/api/schema.js';
import { ANALYSIS_DEFAULTS, analysisSettings, parseDuration, type AnalysisSpec } from '../../../../operator/analysis/settings.js';
import type { CheckResult } from '../../../../operator/analysis/judge.js';
import type { Phase } from '../../../../operator/analysis/step.js';

// Type-level agreement: tsc (npm run typecheck, and ts-jest here) fails when the generated zod type
// of spec.canary.analysis and settings.ts's AnalysisSpec drift apart, in either direction.
// (mutual assignability alone would miss an optional field that only one side has: keys are compared too)
type Assignable<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Same<A, B> = Assignable<A, B> extends true ? Assignable<keyof NonNullable<A>, keyof NonNullable<B>> : false;
const specAgrees: Same<z.infer<typeof AnalysisSchema>, AnalysisSpec> = true;
const checksAgree: Same<z.infer<typeof AnalysisSchema>['checks'], AnalysisSpec['checks']> = true;
const phaseAgrees: Same<NonNullable<z.infer<typeof DigitModelStatusSchema>['canary']>['phase'], Phase | undefined> = true;
const checkNameAgrees: Same<z.infer<typeof CheckStatusSchema>['name'], CheckResult['name']> = true;
const verdictAgrees: Same<z.infer<typeof CheckStatusSchema>['verdict'], CheckResult['verdict']> = true;

describe('the spec.canary.analysis API', () => {
  it('has the same type as the AnalysisSpec the settings read', () => {
    expect([specAgrees, checksAgree, phaseAgrees, checkNameAgrees, verdictAgrees]).toEqual([true, true, true, true, true]);
  });

  it("accepts SPEC §7's example and turns it into settings", () => {
    const canary = CanarySchema.parse({
      version: '4',
      uri: 'pvc://models/mnist-cnn/4',
      weight: 0,
      analysis: {
        interval: '30s', stepWeight: 10, maxWeight: 50, minPredictions: 200, mirrorPercent: 5, failureLimit: 2, promotion: 'Auto',
        checks: { maxErrorRate: 0.01, maxLatencyP95Ms: 250, maxUnreliableIncrease: 0.05, maxDisagreement: 0.02 },
      },
    });
    const s = analysisSettings(canary.analysis ?? {});
    expect(s).toMatchObject({ intervalMs: 30_000, stepWeight: 10, maxWeight: 50, minPredictions: 200, mirrorPercent: 5, failureLimit: 2 });
    expect(s.checks.maxLatencyP95Ms).toBe(250);
  });

  it.each<[string, unknown]>([
    ['stepWeight 0', { stepWeight: 0 }],
    ['maxWeight 101', { maxWeight: 101 }],
    ['mirrorPercent -1', { mirrorPercent: -1 }],
    ['failureLimit 0', { failureLimit: 0 }],
    ['minPredictions 0', { minPredictions: 0 }],
    ['maxErrorRate 1.5', { checks: { maxErrorRate: 1.5 } }],
    ['maxLatencyP95Ms 0', { checks: { maxLatencyP95Ms: 0 } }],
    ['promotion Sometimes', { promotion: 'Sometimes' }],
    ['interval 30', { interval: '30' }],
  ])('the zod mirror refuses %s as the CRD does', (_what, analysis) => {
    expect(AnalysisSchema.safeParse(analysis).success).toBe(false);
  });

  // the CRD's pattern plus its "a non-zero digit" rule must accept exactly what parseDuration accepts
  it.each(['30s', '2m', '1m30s', '1.5m', '500ms', '1h', '0.5s', '0s', '00m', '0.0s', '30', 's', '-5s', '5 s', '5d', '1m-2s', '1.s', '.5s', '10us'])(
    'the CRD and parseDuration agree on the interval %j',
    (text) => {
      const crdAccepts = new RegExp(DURATION_PATTERN).test(text) && /[1-9]/.test(text);
      let parsed = true;
      try {
        parseDuration(text);
      } catch {
        parsed = false;
      }
      expect(crdAccepts).toBe(parsed);
    },
  );

  it('describes every field, sets no CRD default and names the default the operator applies', () => {
    const fields: [string, SchemaNode][] = [];
    const walk = (path: string, n: SchemaNode) => {
      fields.push([path, n]);
      for (const [k, v] of Object.entries(n.properties ?? {})) walk(`${path}.${k}`, v);
    };
    walk('analysis', analysisSchema);
    for (const [path, n] of fields) {
      expect([path, n.description?.length ?? 0]).not.toEqual([path, 0]);
      expect([path, n.default]).toEqual([path, undefined]);
    }
    const described = (path: string) => fields.find(([p]) => p === path)?.[1].description ?? '';
    const d = ANALYSIS_DEFAULTS;
    const scalar: [string, unknown][] = [
      ['interval', d.interval], ['stepWeight', d.stepWeight], ['maxWeight', d.maxWeight], ['minPredictions', d.minPredictions],
      ['mirrorPercent', d.mirrorPercent], ['failureLimit', d.failureLimit], ['promotion', d.promotion],
      ...Object.entries(d.checks).map(([k, v]) => [`checks.${k}`, v] as [string, unknown]),
    ];
    for (const [field, value] of scalar) expect(described(`analysis.${field}`)).toContain(`Default ${String(value)}.`);
  });
});
