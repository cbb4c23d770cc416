import { judge, type CheckName, type Verdict } from '../../../../operator/analysis/judge.js';
import { analysisSettings } from '../../../../operator/analysis/settings.js';
import type { TrackWindow } from '../../../../operator/analysis/window.js';

const LE = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, Infinity];

/** A window of `n` answered predictions, all with latency `latency` s, `errors` of them 5xx. */
function win(n: number, o: { errors?: number; unreliable?: number; latency?: number; mirrored?: number; disagreements?: number; shed?: number } = {}): TrackWindow {
  const errors = o.errors ?? 0;
  const latency = o.latency ?? 0.02;
  return {
    ok: n - errors, errors, shed: o.shed ?? 0, images: n, unreliable: o.unreliable ?? 0,
    mirrored: o.mirrored ?? 0, disagreements: o.disagreements ?? 0,
    latency: { le: LE, counts: LE.map((le) => (latency <= le ? n : 0)) },
  };
}

const settings = analysisSettings({ minPredictions: 100, mirrorPercent: 10 }); // minMirrored 25
const good = () => win(1000, { mirrored: 100 });
const verdictOf = (checks: { name: CheckName; verdict: Verdict }[], name: CheckName) => checks.find((c) => c.name === name)?.verdict;

describe('judge: one window, every check', () => {
  const table: [string, number, TrackWindow | undefined, TrackWindow | undefined, Verdict, Partial<Record<CheckName, Verdict>>][] = [
    ['a healthy canary passes every check', 10, win(200), good(), 'Pass',
      { errorRate: 'Pass', latencyP95: 'Pass', unreliableIncrease: 'Pass', disagreement: 'Pass' }],
    ['too few canary predictions: inconclusive, never pass', 10, win(99), good(), 'Inconclusive',
      { errorRate: 'Inconclusive', latencyP95: 'Inconclusive', unreliableIncrease: 'Inconclusive', disagreement: 'Pass' }],
    ['canary metrics unreachable: inconclusive', 10, undefined, good(), 'Inconclusive',
      { errorRate: 'Inconclusive', latencyP95: 'Inconclusive', unreliableIncrease: 'Inconclusive' }],
    ['stable metrics unreachable: unreliable and disagreement inconclusive', 10, win(200), undefined, 'Inconclusive',
      { errorRate: 'Pass', latencyP95: 'Pass', unreliableIncrease: 'Inconclusive', disagreement: 'Inconclusive' }],
    ['error rate over the limit fails', 10, win(200, { errors: 3 }), good(), 'Fail', { errorRate: 'Fail' }],
    ['error rate at the limit passes', 10, win(200, { errors: 2 }), good(), 'Pass', { errorRate: 'Pass' }],
    ['shedding (429) is not an error', 10, win(200, { shed: 500 }), good(), 'Pass', { errorRate: 'Pass' }],
    ['slow canary fails the p95 check', 10, win(200, { latency: 0.9 }), good(), 'Fail', { latencyP95: 'Fail', errorRate: 'Pass' }],
    ['unsure canary fails against stable', 10, win(200, { unreliable: 30 }), win(1000, { unreliable: 50, mirrored: 100 }), 'Fail',
      { unreliableIncrease: 'Fail' }],
    ['as unsure as stable passes', 10, win(200, { unreliable: 10 }), win(1000, { unreliable: 50, mirrored: 100 }), 'Pass',
      { unreliableIncrease: 'Pass' }],
    ['stable with too few images: unreliable inconclusive', 10, win(200), win(50, { mirrored: 100 }), 'Inconclusive',
      { unreliableIncrease: 'Inconclusive' }],
    ['a canary that disagrees fails', 10, win(200), win(1000, { mirrored: 100, disagreements: 3 }), 'Fail', { disagreement: 'Fail' }],
    ['too few mirrored requests: disagreement inconclusive', 10, win(200), win(1000, { mirrored: 24 }), 'Inconclusive',
      { disagreement: 'Inconclusive' }],
    ['a fail wins over an inconclusive check', 10, win(200, { errors: 50 }), win(1000, { mirrored: 5 }), 'Fail',
      { errorRate: 'Fail', disagreement: 'Inconclusive' }],
    ['at weight 0 only disagreement is judged (the canary serves no users)', 0, win(0), good(), 'Pass', { disagreement: 'Pass' }],
    ['at weight 0 a disagreeing canary fails before any user reaches it', 0, undefined, win(1000, { mirrored: 100, disagreements: 40 }), 'Fail',
      { disagreement: 'Fail' }],
    ['at weight 0 without enough mirrored requests: hold', 0, undefined, win(1000, { mirrored: 3 }), 'Inconclusive',
      { disagreement: 'Inconclusive' }],
  ];

  it.each(table)('%s', (_name, weight, canary, stable, verdict, checks) => {
    const j = judge(settings, weight, { canary, stable });
    expect(j.verdict).toBe(verdict);
    for (const [name, v] of Object.entries(checks)) expect(verdictOf(j.checks, name as CheckName)).toBe(v);
  });

  it('reports both values and the limit of each check', () => {
    const j = judge(settings, 10, { canary: win(200, { unreliable: 30 }), stable: win(1000, { unreliable: 50, mirrored: 100, disagreements: 1 }) });
    expect(j.checks.find((c) => c.name === 'unreliableIncrease')).toMatchObject({ canary: 0.15, stable: 0.05, limit: 0.05 });
    expect(j.checks.find((c) => c.name === 'disagreement')).toMatchObject({ canary: 0.01, stable: 0, limit: 0.02 });
    expect(j.checks.find((c) => c.name === 'errorRate')).toMatchObject({ canary: 0, stable: 0, limit: 0.01 });
  });

  it('without mirroring, disagreement is not judged and does not hold the analysis', () => {
    const s = analysisSettings({ mirrorPercent: 0 });
    expect(judge(s, 10, { canary: win(200), stable: win(1000) }).verdict).toBe('Pass');
    expect(judge(s, 0, { canary: undefined, stable: undefined })).toEqual({ verdict: 'Pass', checks: [] });
  });
});
