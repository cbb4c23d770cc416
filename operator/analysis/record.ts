import type { CanaryStatus, DigitModel } from '../api/types.js';
import type { CheckResult } from './judge.js';
import { analysisSettings, type AnalysisSettings } from './settings.js';
import { initialState, PHASES, type AnalysisEvent, type AnalysisState } from './step.js';

/**
 * The analysis as status holds it (SPEC §7): status is the state, so a new leader goes on from
 * what the last one wrote. A judgement's outcome is a record the analysis loop hands to the
 * reconciler, which writes it into status.canary (and only then emits its Event). Pure.
 */

export type CheckStatus = NonNullable<CanaryStatus['checks']>[number];

export interface AnalysisRecord {
  state: AnalysisState;
  /** The canary version judged (the loop's records); one about another version is not in force. */
  version?: string;
  checks?: CheckStatus[];
  /** The transition's Event, emitted once the record is in status. */
  event?: AnalysisEvent;
}

/** The settings of a DigitModel's analysis, or undefined when it has none (or an interval the operator cannot read). */
export function settingsOf(dm: DigitModel): AnalysisSettings | undefined {
  const spec = dm.spec?.canary?.analysis;
  if (!spec) return undefined;
  try {
    return analysisSettings(spec);
  } catch {
    return undefined; // the CRD's pattern refuses such intervals; an older stored object may still have one
  }
}

/**
 * The analysis in force: the loop's newest record, else status.canary's, else the start (spec
 * weight, step 0). Only what is about the current spec.canary.version counts: a new canary version
 * (a fixed model after an abort, say) is analysed from the start. Status written before
 * analysisVersion existed counts as about the current version.
 */
export function analysisInForce(dm: DigitModel, pending?: AnalysisRecord): AnalysisRecord | undefined {
  const s = settingsOf(dm);
  if (!s || !dm.spec.canary) return undefined;
  const version = dm.spec.canary.version;
  const about = (v: string | undefined) => v === undefined || v === version;
  if (pending && about(pending.version)) return pending;
  const c = dm.status?.canary;
  if (c?.phase && PHASES.includes(c.phase) && c.analysisWeight !== undefined && about(c.analysisVersion)) {
    return {
      state: { phase: c.phase, analysisWeight: c.analysisWeight, step: c.step ?? 0, failures: c.failures ?? 0 },
      ...(c.checks ? { checks: c.checks } : {}),
    };
  }
  return { state: initialState(s, dm.spec.canary.weight) };
}

/** The canary weight the replica split and the HTTPRoute use: analysisWeight while analysis runs, else spec.canary.weight. */
export function canaryWeightInForce(dm: DigitModel, analysis: AnalysisRecord | undefined): number | undefined {
  if (!dm.spec.canary) return undefined;
  return analysis ? analysis.state.analysisWeight : dm.spec.canary.weight;
}

/** A judgement's checks as status.canary.checks holds them (unknown values left out). */
export function checkStatuses(checks: readonly CheckResult[]): CheckStatus[] {
  return checks.map((c) => ({
    name: c.name,
    ...(c.canary !== null && Number.isFinite(c.canary) ? { canary: round(c.canary) } : {}),
    ...(c.stable !== null && Number.isFinite(c.stable) ? { stable: round(c.stable) } : {}),
    limit: c.limit,
    verdict: c.verdict,
    ...(c.reason ? { reason: c.reason } : {}),
  }));
}

/** Six significant digits: enough to read, and no float noise in status. */
function round(v: number): number {
  return Number(v.toPrecision(6));
}

/** The Degraded message of an aborted analysis, from the failed checks status keeps. */
export function abortMessage(dm: DigitModel, a: AnalysisRecord): string {
  const failed = (a.checks ?? []).filter((c) => c.verdict === 'Fail');
  const what = failed
    .map((c) => {
      const unit = c.name === 'latencyP95' ? ' ms' : '';
      const v = (x: number | undefined) => (x === undefined ? 'unknown' : `${x}${unit}`);
      return `${c.name}: canary ${v(c.canary)} vs stable ${v(c.stable)} (limit ${v(c.limit)})`;
    })
    .join('; ');
  return `canary version ${dm.spec.canary?.version ?? ''} aborted by analysis after ${a.state.failures} failed judgement(s)${what ? `: ${what}` : ''}; ` +
    'it serves no traffic; remove spec.canary to delete it';
}
