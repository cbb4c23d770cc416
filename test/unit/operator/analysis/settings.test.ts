import { ANALYSIS_DEFAULTS, analysisSettings, parseDuration } from '../../../../operator/analysis/settings.js';

describe('analysis settings', () => {
  it.each([
    ['30s', 30_000], ['2m', 120_000], ['1m30s', 90_000], ['1.5m', 90_000], ['500ms', 500], ['1h', 3_600_000],
  ])('parses the duration %s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '30', 's', '-5s', '5 s', '5d', '0s', '1m-2s'])('refuses the duration %j', (text) => {
    expect(() => parseDuration(text)).toThrow(RangeError);
  });

  it('fills every unset field with the documented default', () => {
    const s = analysisSettings({});
    expect(s).toMatchObject({
      intervalMs: 60_000,
      stepWeight: ANALYSIS_DEFAULTS.stepWeight,
      maxWeight: ANALYSIS_DEFAULTS.maxWeight,
      minPredictions: ANALYSIS_DEFAULTS.minPredictions,
      mirrorPercent: ANALYSIS_DEFAULTS.mirrorPercent,
      failureLimit: ANALYSIS_DEFAULTS.failureLimit,
      promotion: 'Auto',
      checks: ANALYSIS_DEFAULTS.checks,
    });
  });

  it('keeps the fields that are set, including single checks', () => {
    const s = analysisSettings({ interval: '30s', stepWeight: 20, promotion: 'Manual', checks: { maxDisagreement: 0.05 } });
    expect(s.intervalMs).toBe(30_000);
    expect(s.stepWeight).toBe(20);
    expect(s.promotion).toBe('Manual');
    expect(s.checks.maxDisagreement).toBe(0.05);
    expect(s.checks.maxErrorRate).toBe(ANALYSIS_DEFAULTS.checks.maxErrorRate);
  });

  it('asks for enough mirrored requests that the default disagreement limit means two or more disagreements', () => {
    for (const minPredictions of [1, 50, 100, 400]) {
      const s = analysisSettings({ minPredictions });
      expect(s.minMirrored * s.checks.maxDisagreement).toBeGreaterThanOrEqual(0.4);
      expect(s.minMirrored).toBeGreaterThanOrEqual(20);
    }
  });
});
