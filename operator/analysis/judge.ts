import type { AnalysisSettings } from './settings.js';
import { histogramQuantile, type TrackWindow } from './window.js';

/**
 * One judgement of a canary over one window (SPEC §7 checks). Pure: windows in, verdicts out.
 * A check that cannot be judged (too few predictions or mirrored requests, metrics missing) is
 * Inconclusive, which holds the weight; it never passes by default.
 */

export type Verdict = 'Pass' | 'Fail' | 'Inconclusive';
export type CheckName = 'errorRate' | 'latencyP95' | 'unreliableIncrease' | 'disagreement';

export interface CheckResult {
  name: CheckName;
  /** The canary's value, the stable track's (for comparison), and the limit; null when unknown. */
  canary: number | null;
  stable: number | null;
  limit: number;
  verdict: Verdict;
  /** Why a check is Inconclusive. */
  reason?: string;
}

export interface Judgement {
  verdict: Verdict;
  checks: CheckResult[];
}

export interface Windows {
  /** Undefined when the track's metrics could not be read. */
  canary?: TrackWindow;
  stable?: TrackWindow;
}

const errorRate = (w: TrackWindow) => (w.ok + w.errors > 0 ? w.errors / (w.ok + w.errors) : NaN);
const unreliableShare = (w: TrackWindow) => (w.images > 0 ? w.unreliable / w.images : NaN);
const p95Ms = (w: TrackWindow) => 1000 * histogramQuantile(0.95, w.latency);
const orNull = (v: number) => (Number.isFinite(v) ? v : null);

function inconclusive(name: CheckName, limit: number, reason: string, canary: number | null = null, stable: number | null = null): CheckResult {
  return { name, canary, stable, limit, verdict: 'Inconclusive', reason };
}

/** Judges the window. `weight` is the weight in force: at 0 the canary serves no users, so only disagreement is judged. */
export function judge(s: AnalysisSettings, weight: number, w: Windows): Judgement {
  const checks: CheckResult[] = [];
  const c = s.checks;
  const { canary, stable } = w;
  if (weight > 0) {
    if (!canary) {
      checks.push(
        inconclusive('errorRate', c.maxErrorRate, 'canary metrics unreachable'),
        inconclusive('latencyP95', c.maxLatencyP95Ms, 'canary metrics unreachable'),
        inconclusive('unreliableIncrease', c.maxUnreliableIncrease, 'canary metrics unreachable'),
      );
    } else if (canary.ok + canary.errors < s.minPredictions) {
      const why = `${canary.ok + canary.errors} canary predictions in the window, ${s.minPredictions} needed`;
      checks.push(
        inconclusive('errorRate', c.maxErrorRate, why, orNull(errorRate(canary)), stable ? orNull(errorRate(stable)) : null),
        inconclusive('latencyP95', c.maxLatencyP95Ms, why, orNull(p95Ms(canary)), stable ? orNull(p95Ms(stable)) : null),
        inconclusive('unreliableIncrease', c.maxUnreliableIncrease, why),
      );
    } else {
      const rate = errorRate(canary);
      checks.push({
        name: 'errorRate', canary: rate, stable: stable ? orNull(errorRate(stable)) : null,
        limit: c.maxErrorRate, verdict: rate <= c.maxErrorRate ? 'Pass' : 'Fail',
      });
      const p95 = p95Ms(canary);
      checks.push(
        Number.isFinite(p95)
          ? { name: 'latencyP95', canary: p95, stable: stable ? orNull(p95Ms(stable)) : null, limit: c.maxLatencyP95Ms, verdict: p95 <= c.maxLatencyP95Ms ? 'Pass' : 'Fail' }
          : inconclusive('latencyP95', c.maxLatencyP95Ms, 'no latency observations'),
      );
      checks.push(unreliableCheck(s, canary, stable));
    }
  }
  // at weight 0 without mirroring the canary serves nobody and nothing can be judged or lost: step on
  if (weight === 0 && s.mirrorPercent === 0) return { verdict: 'Pass', checks: [] };
  checks.push(disagreementCheck(s, stable));
  return { verdict: overall(checks), checks };
}

function unreliableCheck(s: AnalysisSettings, canary: TrackWindow, stable: TrackWindow | undefined): CheckResult {
  const limit = s.checks.maxUnreliableIncrease;
  const cs = unreliableShare(canary);
  if (!stable) return inconclusive('unreliableIncrease', limit, 'stable metrics unreachable', orNull(cs));
  if (stable.images < s.minPredictions) {
    return inconclusive('unreliableIncrease', limit, `${stable.images} stable images in the window, ${s.minPredictions} needed`, orNull(cs), orNull(unreliableShare(stable)));
  }
  const ss = unreliableShare(stable);
  if (!Number.isFinite(cs)) return inconclusive('unreliableIncrease', limit, 'no canary images', null, ss);
  return { name: 'unreliableIncrease', canary: cs, stable: ss, limit, verdict: cs - ss <= limit ? 'Pass' : 'Fail' };
}

/** Disagreement is counted by the stable pods, which mirror their requests to the canary and compare digits. */
function disagreementCheck(s: AnalysisSettings, stable: TrackWindow | undefined): CheckResult {
  const limit = s.checks.maxDisagreement;
  if (s.mirrorPercent === 0) return inconclusive('disagreement', limit, 'mirroring is off (mirrorPercent 0)');
  if (!stable) return inconclusive('disagreement', limit, 'stable metrics unreachable');
  if (stable.mirrored < s.minMirrored) {
    return inconclusive('disagreement', limit, `${stable.mirrored} mirrored requests in the window, ${s.minMirrored} needed`, stable.mirrored > 0 ? stable.disagreements / stable.mirrored : null);
  }
  const share = stable.disagreements / stable.mirrored;
  return { name: 'disagreement', canary: share, stable: 0, limit, verdict: share <= limit ? 'Pass' : 'Fail' };
}

/** Any failed check fails the window; otherwise any unjudged check holds it (mirroring switched off excepted). */
function overall(checks: CheckResult[]): Verdict {
  if (checks.some((k) => k.verdict === 'Fail')) return 'Fail';
  const judged = checks.filter((k) => !(k.name === 'disagreement' && k.reason?.startsWith('mirroring is off')));
  if (judged.length === 0 || judged.some((k) => k.verdict === 'Inconclusive')) return 'Inconclusive';
  return 'Pass';
}
