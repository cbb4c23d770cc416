import type { Judgement, Verdict } from '../../../../operator/analysis/judge.js';
import { analysisSettings } from '../../../../operator/analysis/settings.js';
import { advance, initialState, type AnalysisState } from '../../../../operator/analysis/step.js';

const pass: Judgement = { verdict: 'Pass', checks: [] };
const hold: Judgement = { verdict: 'Inconclusive', checks: [] };
const fail: Judgement = {
  verdict: 'Fail',
  checks: [{ name: 'disagreement', canary: 0.31, stable: 0, limit: 0.02, verdict: 'Fail' }],
};
const byVerdict: Record<Verdict, Judgement> = { Pass: pass, Inconclusive: hold, Fail: fail };

/** Runs a sequence of verdicts from the initial state; returns every state and event reason. */
function walk(spec: Parameters<typeof analysisSettings>[0], weight: number, verdicts: Verdict[]) {
  const s = analysisSettings(spec);
  let state = initialState(s, weight);
  const states: AnalysisState[] = [state];
  const events: string[] = [];
  for (const v of verdicts) {
    const t = advance(s, state, byVerdict[v]);
    state = t.state;
    states.push(state);
    if (t.event) events.push(t.event.reason);
  }
  return { state, states, events };
}

describe('the analysis state machine', () => {
  it('walks the steps to maxWeight, then promotes (Auto)', () => {
    const { state, states, events } = walk({ stepWeight: 10, maxWeight: 30 }, 0, ['Pass', 'Pass', 'Pass', 'Pass']);
    expect(states.map((s) => s.analysisWeight)).toEqual([0, 10, 20, 30, 30]);
    expect(state.phase).toBe('Promoted');
    expect(events).toEqual(['CanaryStepAdvanced', 'CanaryStepAdvanced', 'CanaryStepAdvanced', 'CanaryPromoted']);
  });

  it('pauses at maxWeight with Manual promotion, and stays paused', () => {
    const { state, events } = walk({ stepWeight: 25, maxWeight: 50, promotion: 'Manual' }, 0, ['Pass', 'Pass', 'Pass', 'Pass']);
    expect(state).toMatchObject({ phase: 'Paused', analysisWeight: 50 });
    expect(events).toEqual(['CanaryStepAdvanced', 'CanaryStepAdvanced', 'CanaryPaused']);
  });

  it('never steps past maxWeight', () => {
    const { states } = walk({ stepWeight: 20, maxWeight: 50 }, 5, ['Pass', 'Pass', 'Pass']);
    expect(states.map((s) => s.analysisWeight)).toEqual([5, 25, 45, 50]);
  });

  it('starts at the spec weight, capped at maxWeight', () => {
    const s = analysisSettings({ maxWeight: 40 });
    expect(initialState(s, 20).analysisWeight).toBe(20);
    expect(initialState(s, 90).analysisWeight).toBe(40);
  });

  it('holds on an inconclusive window: no step, no failure, no promotion', () => {
    const { state, events } = walk({ maxWeight: 10 }, 10, ['Inconclusive', 'Inconclusive', 'Inconclusive']);
    expect(state).toEqual({ phase: 'Progressing', analysisWeight: 10, step: 0, failures: 0 });
    expect(events).toEqual([]);
  });

  it('aborts at failureLimit: weight back to 0, an event naming the check and both values', () => {
    const s = analysisSettings({ failureLimit: 2 });
    const first = advance(s, initialState(s, 20), fail);
    expect(first.state).toMatchObject({ phase: 'Progressing', failures: 1, analysisWeight: 20 });
    expect(first.event?.reason).toBe('CanaryCheckFailed');
    const second = advance(s, first.state, fail);
    expect(second.state).toMatchObject({ phase: 'Aborted', failures: 2, analysisWeight: 0 });
    expect(second.event).toMatchObject({ type: 'Warning', reason: 'CanaryAborted' });
    expect(second.event?.message).toContain('disagreement: canary 0.3100 vs stable 0.0000 (limit 0.0200)');
  });

  it('aborts at once with failureLimit 1', () => {
    expect(walk({ failureLimit: 1 }, 10, ['Fail']).state.phase).toBe('Aborted');
  });

  it('keeps failures across passing steps (a canary that fails now and then still reaches its limit)', () => {
    const { state } = walk({ failureLimit: 2, stepWeight: 10, maxWeight: 50 }, 0, ['Fail', 'Pass', 'Pass', 'Fail']);
    expect(state).toMatchObject({ phase: 'Aborted', analysisWeight: 0, failures: 2 });
  });

  it.each(['Pass', 'Fail', 'Inconclusive'] as Verdict[])('does not flap: an aborted or promoted analysis ignores a later %s', (v) => {
    const s = analysisSettings({ failureLimit: 1, maxWeight: 10 });
    const aborted = advance(s, initialState(s, 10), fail).state;
    expect(advance(s, aborted, byVerdict[v])).toEqual({ state: aborted });
    const promoted = advance(s, initialState(s, 10), pass).state;
    expect(promoted.phase).toBe('Promoted');
    expect(advance(s, promoted, byVerdict[v])).toEqual({ state: promoted });
  });

  it('every reachable state keeps 0 <= weight <= maxWeight and failures <= failureLimit', () => {
    const s = analysisSettings({ stepWeight: 15, maxWeight: 60, failureLimit: 3 });
    const verdicts: Verdict[] = ['Pass', 'Fail', 'Inconclusive'];
    // every sequence of 7 verdicts (3^7 = 2,187)
    for (let code = 0; code < 3 ** 7; code++) {
      let state = initialState(s, 0);
      for (let k = 0, c = code; k < 7; k++, c = Math.floor(c / 3)) {
        state = advance(s, state, byVerdict[verdicts[c % 3]]).state;
        expect(state.analysisWeight).toBeGreaterThanOrEqual(0);
        expect(state.analysisWeight).toBeLessThanOrEqual(60);
        expect(state.failures).toBeLessThanOrEqual(3);
        if (state.phase === 'Aborted') expect(state.analysisWeight).toBe(0);
      }
    }
  });
});
