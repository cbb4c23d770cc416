import type { CheckResult, Judgement } from './judge.js';
import type { AnalysisSettings } from './settings.js';

/**
 * The analysis state machine (SPEC §7): a passing judgement adds stepWeight up to maxWeight,
 * then promotes (Auto) or pauses (Manual); failed judgements count towards failureLimit, then
 * abort (weight back to 0, left for a human, no flapping); an inconclusive one holds.
 * Promoted and Aborted are final for this canary version.
 */

/** Every analysis phase (status.canary.phase). */
export const PHASES = ['Progressing', 'Paused', 'Promoted', 'Aborted'] as const;
export type Phase = (typeof PHASES)[number];

export interface AnalysisState {
  phase: Phase;
  /** The weight in force (status.canary.analysisWeight). */
  analysisWeight: number;
  /** Passing judgements so far. */
  step: number;
  /** Failed judgements so far. */
  failures: number;
}

export interface AnalysisEvent {
  type: 'Normal' | 'Warning';
  reason: 'CanaryStepAdvanced' | 'CanaryPromoted' | 'CanaryPaused' | 'CanaryCheckFailed' | 'CanaryAborted';
  message: string;
}

export interface Transition {
  state: AnalysisState;
  event?: AnalysisEvent;
}

/** Where an analysis starts: the spec's weight (capped at maxWeight). */
export function initialState(s: AnalysisSettings, specWeight: number): AnalysisState {
  return { phase: 'Progressing', analysisWeight: Math.min(specWeight, s.maxWeight), step: 0, failures: 0 };
}

const fmt = (v: number | null, name: CheckResult['name']) =>
  v === null ? 'unknown' : name === 'latencyP95' ? `${v.toFixed(1)} ms` : v.toFixed(4);

/** "disagreement: canary 0.3100 vs stable 0.0000 (limit 0.0200)" for each failed check. */
export function describeFailures(j: Judgement): string {
  return j.checks
    .filter((c) => c.verdict === 'Fail')
    .map((c) => `${c.name}: canary ${fmt(c.canary, c.name)} vs stable ${fmt(c.stable, c.name)} (limit ${fmt(c.limit, c.name)})`)
    .join('; ');
}

export function advance(s: AnalysisSettings, state: AnalysisState, j: Judgement): Transition {
  if (state.phase === 'Promoted' || state.phase === 'Aborted' || state.phase === 'Paused') return { state };
  if (j.verdict === 'Inconclusive') return { state };
  if (j.verdict === 'Fail') {
    const failures = state.failures + 1;
    const what = describeFailures(j);
    if (failures >= s.failureLimit) {
      return {
        state: { ...state, phase: 'Aborted', analysisWeight: 0, failures },
        event: { type: 'Warning', reason: 'CanaryAborted', message: `aborted at weight ${state.analysisWeight} after ${failures} failed judgement(s): ${what}` },
      };
    }
    return {
      state: { ...state, failures },
      event: { type: 'Warning', reason: 'CanaryCheckFailed', message: `failed judgement ${failures} of ${s.failureLimit} at weight ${state.analysisWeight}: ${what}` },
    };
  }
  const step = state.step + 1;
  if (state.analysisWeight >= s.maxWeight) {
    return s.promotion === 'Auto'
      ? {
          state: { ...state, phase: 'Promoted', step },
          event: { type: 'Normal', reason: 'CanaryPromoted', message: `all checks passed at weight ${state.analysisWeight}; promote by setting spec.model to the canary's version and removing spec.canary` },
        }
      : {
          state: { ...state, phase: 'Paused', step },
          event: { type: 'Normal', reason: 'CanaryPaused', message: `all checks passed at weight ${state.analysisWeight}; paused for a manual promotion (promotion: Manual)` },
        };
  }
  const analysisWeight = Math.min(s.maxWeight, state.analysisWeight + s.stepWeight);
  return {
    state: { ...state, analysisWeight, step },
    event: { type: 'Normal', reason: 'CanaryStepAdvanced', message: `checks passed at weight ${state.analysisWeight}; weight now ${analysisWeight}` },
  };
}
