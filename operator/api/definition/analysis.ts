import { ANALYSIS_DEFAULTS } from '../../analysis/settings.js';
import { int, list, num, obj, str, type Rule, type SchemaNode } from './nodes.js';

/**
 * `spec.canary.analysis` and the analysis fields of `status.canary` (SPEC §7). No CRD defaults
 * (SPEC §2's rule): the operator fills unset fields from ANALYSIS_DEFAULTS
 * (operator/analysis/settings.ts), and every description names the default it applies.
 */

const d = ANALYSIS_DEFAULTS;

/** What operator/analysis/settings.ts parseDuration accepts: ms/s/m/h parts, decimals allowed, no sign, no spaces. */
export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$';

const positiveDuration: Rule[] = [
  // with the pattern, a non-zero digit somewhere is exactly "the total is above 0"
  { rule: "self.matches('[1-9]')", message: 'spec.canary.analysis.interval must be a positive duration such as 30s, 2m or 1m30s' },
];

const checks = obj(
  'Limits of the checks judged over each interval; every field optional, unset fields take the documented default.',
  {
    maxErrorRate: num(
      `Largest share of the canary's answered predictions that may be errors: (5xx + 504) / (2xx + 5xx), 0-1. 429 is ` +
        `shedding: reported, never an error. Default ${d.checks.maxErrorRate}.`,
      0,
      1,
    ),
    maxLatencyP95Ms: num(
      'Largest p95 latency, in milliseconds, of the canary\'s answered predictions over the interval, computed from the ' +
        `digitserve_request_duration_seconds buckets summed over the canary's pods. Default ${d.checks.maxLatencyP95Ms}.`,
      0,
      600000,
      { exclusiveMinimum: true },
    ),
    maxUnreliableIncrease: num(
      "Largest increase of the canary's share of reliable=false answers over the stable track's share in the same interval, 0-1. " +
        `Default ${d.checks.maxUnreliableIncrease}.`,
      0,
      1,
    ),
    maxDisagreement: num(
      "Largest share of mirrored requests on which the canary's digit differs from stable's, 0-1 (needs mirrorPercent > 0). " +
        `Default ${d.checks.maxDisagreement}.`,
      0,
      1,
    ),
  },
  { zodName: 'AnalysisChecksSchema' },
);

export const analysisSchema: SchemaNode = obj(
  'Automated canary analysis: when set, the operator drives the canary weight itself. spec.canary.weight is the starting ' +
    'weight (capped at maxWeight); the weight in force is status.canary.analysisWeight. Each interval the canary is judged ' +
    'against the checks: a pass adds stepWeight, a window that cannot be judged (too few predictions, metrics unreachable) ' +
    'holds the weight and never promotes, failureLimit failed judgements abort (weight back to 0, Degraded=True CanaryAborted, ' +
    'the canary Deployment kept for inspection). The stable pods mirror mirrorPercent of their requests to the canary ' +
    '(MIRROR_URL/MIRROR_PERCENT: adding or removing such a canary rolls the stable pods once). The leader reads the pods\' ' +
    'metrics port at the pod IPs of the <name>-stable/<name>-canary EndpointSlices. Every field is optional; unset fields take ' +
    'the defaults named in their descriptions (docs/operator.md, "Canary analysis").',
  {
    interval: str(
      `Time between judgements, as a Go duration of ms, s, m and h parts (30s, 2m, 1m30s). Default ${d.interval}.`,
      32,
      { minLength: 2, pattern: DURATION_PATTERN, 'x-kubernetes-validations': positiveDuration },
    ),
    stepWeight: int(`Weight added after each passing judgement, 1-100. Default ${d.stepWeight}.`, 1, 100),
    maxWeight: int(
      `Last analysed weight, 1-100, at least spec.canary.weight; a pass there promotes (Auto) or pauses (Manual). Default ${d.maxWeight}.`,
      1,
      100,
    ),
    minPredictions: int(
      `Canary predictions needed in an interval to judge it; fewer hold the weight. Default ${d.minPredictions}.`,
      1,
      1000000,
    ),
    mirrorPercent: int(
      "Percent of the stable track's requests mirrored to the canary (asynchronously, never delaying stable's answer) to " +
        `measure disagreement, 0-100; 0 switches mirroring and the disagreement check off. Default ${d.mirrorPercent}.`,
      0,
      100,
    ),
    failureLimit: int(`Failed judgements before the analysis aborts, 1-100. Default ${d.failureLimit}.`, 1, 100),
    promotion: {
      description:
        'After a passing judgement at maxWeight: Auto sets phase Promoted (Event CanaryPromoted; with a Gateway all traffic goes ' +
        `to the canary); Manual sets phase Paused and waits for the user's promotion edit. Default ${d.promotion}.`,
      type: 'string',
      enum: ['Auto', 'Manual'],
    },
    checks,
  },
  { zodName: 'AnalysisSchema' },
);

/** The rule on spec.canary that ties the analysis to the starting weight. */
export const analysisWeightRule: Rule = {
  rule: '!has(self.analysis) || !has(self.analysis.maxWeight) || self.analysis.maxWeight >= self.weight',
  message: 'spec.canary.analysis.maxWeight must be at least spec.canary.weight (the starting weight of the analysis)',
  fieldPath: '.analysis.maxWeight',
};

const anyNumber = (description: string): SchemaNode => ({ description, type: 'number' });

const checkStatus = obj(
  "One check's last judgement.",
  {
    name: {
      description: 'The check: errorRate, latencyP95 (milliseconds), unreliableIncrease or disagreement.',
      type: 'string',
      enum: ['errorRate', 'latencyP95', 'unreliableIncrease', 'disagreement'],
    },
    canary: anyNumber("The canary's value over the last interval; absent when it could not be measured."),
    stable: anyNumber("The stable track's value over the same interval, for comparison; absent when it could not be measured."),
    limit: anyNumber('The limit in force (spec.canary.analysis.checks or its default).'),
    verdict: { description: 'Pass, Fail, or Inconclusive (cannot be judged yet: holds the weight).', type: 'string', enum: ['Pass', 'Fail', 'Inconclusive'] },
    reason: str('Why the check is Inconclusive.', 1024),
  },
  { required: ['name', 'limit', 'verdict'], zodName: 'CheckStatusSchema' },
);

/** Fields of status.canary written while spec.canary.analysis is set. */
export const analysisStatusFields: Record<string, SchemaNode> = {
  analysisVersion: str(
    'The canary version the analysis fields are about: a new spec.canary.version starts the analysis again from spec.canary.weight.',
    63,
  ),
  phase: {
    description:
      'Analysis phase: Progressing (judging and stepping), Paused (passed at maxWeight with promotion Manual), Promoted ' +
      '(passed at maxWeight with promotion Auto) or Aborted (failureLimit reached; weight 0 until spec.canary is removed).',
    type: 'string',
    enum: ['Progressing', 'Paused', 'Promoted', 'Aborted'],
  },
  analysisWeight: int(
    'Canary weight in force while analysis runs, 0-100: the replica split, the HTTPRoute and effectiveWeight read it instead of spec.canary.weight.',
    0,
    100,
  ),
  step: int('Passing judgements so far.', 0, undefined),
  failures: int('Failed judgements so far (the analysis aborts at failureLimit).', 0, undefined),
  checks: list("Each check's last values (canary vs stable), limit and verdict.", checkStatus, 8),
};
