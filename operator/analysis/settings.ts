/**
 * Canary analysis settings (SPEC §7 `spec.canary.analysis`) with the operator's documented
 * defaults applied: the CRD has no defaults for these (section 2's rule), so every unset field
 * is filled here, in one place.
 */

export type Promotion = 'Auto' | 'Manual';

/** `spec.canary.analysis` as the user wrote it: every field optional. */
export interface AnalysisSpec {
  interval?: string;
  stepWeight?: number;
  maxWeight?: number;
  minPredictions?: number;
  mirrorPercent?: number;
  failureLimit?: number;
  promotion?: Promotion;
  checks?: {
    maxErrorRate?: number;
    maxLatencyP95Ms?: number;
    maxUnreliableIncrease?: number;
    maxDisagreement?: number;
  };
}

export interface AnalysisSettings {
  intervalMs: number;
  stepWeight: number;
  maxWeight: number;
  minPredictions: number;
  mirrorPercent: number;
  failureLimit: number;
  promotion: Promotion;
  /** Mirrored requests needed in a window to judge disagreement. */
  minMirrored: number;
  checks: {
    maxErrorRate: number;
    maxLatencyP95Ms: number;
    maxUnreliableIncrease: number;
    maxDisagreement: number;
  };
}

/** The documented defaults (docs/operator.md lists the same values). */
export const ANALYSIS_DEFAULTS = {
  interval: '60s',
  stepWeight: 10,
  maxWeight: 50,
  minPredictions: 100,
  mirrorPercent: 10,
  failureLimit: 2,
  promotion: 'Auto' as Promotion,
  checks: {
    maxErrorRate: 0.01,
    maxLatencyP95Ms: 500,
    maxUnreliableIncrease: 0.05,
    maxDisagreement: 0.02,
  },
} as const;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds of a Go duration string made of ms/s/m/h parts ("30s", "1m30s", "1.5m"); throws on anything else. */
export function parseDuration(text: string): number {
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;
  let total = 0;
  let at = 0;
  while (at < text.length) {
    part.lastIndex = at;
    const m = part.exec(text);
    if (!m) throw new RangeError(`"${text}" is not a duration like 30s, 2m or 1m30s`);
    total += Number(m[1]) * UNIT_MS[m[2]];
    at = part.lastIndex;
  }
  if (text.length === 0 || total <= 0) throw new RangeError(`"${text}" is not a positive duration`);
  return total;
}

/** The settings in force: the spec's values over the defaults. */
export function analysisSettings(spec: AnalysisSpec): AnalysisSettings {
  const d = ANALYSIS_DEFAULTS;
  const minPredictions = spec.minPredictions ?? d.minPredictions;
  return {
    intervalMs: parseDuration(spec.interval ?? d.interval),
    stepWeight: spec.stepWeight ?? d.stepWeight,
    maxWeight: spec.maxWeight ?? d.maxWeight,
    minPredictions,
    mirrorPercent: spec.mirrorPercent ?? d.mirrorPercent,
    failureLimit: spec.failureLimit ?? d.failureLimit,
    promotion: spec.promotion ?? d.promotion,
    // a disagreement share below 1/minMirrored cannot be told from 0: ask for enough requests that
    // the default limit (2%) is at least two disagreements
    minMirrored: Math.max(20, Math.ceil(minPredictions / 4)),
    checks: { ...d.checks, ...definedOnly(spec.checks ?? {}) },
  };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
