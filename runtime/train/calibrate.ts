import { sigmoid } from '../engine/confidence.js';

export interface LogisticFit {
  mean: number[];
  scale: number[];
  coefficients: number[];
  intercept: number;
}

/**
 * Fits P(y = 1 | x) = sigmoid(b + Σ w_i (x_i − m_i) / s_i) by Newton's method (IRLS) with a small
 * L2 penalty on w (none on b). Features are standardised first. Pure and deterministic.
 */
export function fitLogistic(x: number[][], y: ArrayLike<boolean>, l2 = 1e-3, iterations = 50): LogisticFit {
  const n = x.length;
  if (n === 0 || n !== y.length) throw new RangeError('fitLogistic needs as many labels as rows, at least one');
  const d = x[0].length;
  const mean = Array.from({ length: d }, (_, j) => x.reduce((s, r) => s + r[j], 0) / n);
  const scale = Array.from({ length: d }, (_, j) => Math.sqrt(x.reduce((s, r) => s + (r[j] - mean[j]) ** 2, 0) / n) || 1);
  const z = x.map((r) => [1, ...r.map((v, j) => (v - mean[j]) / scale[j])]);
  const w = new Array<number>(d + 1).fill(0);
  for (let it = 0; it < iterations; it++) {
    const g = new Array<number>(d + 1).fill(0);
    const h = Array.from({ length: d + 1 }, () => new Array<number>(d + 1).fill(0));
    for (let i = 0; i < n; i++) {
      let a = 0;
      for (let j = 0; j <= d; j++) a += w[j] * z[i][j];
      const p = sigmoid(a);
      const r = p - (y[i] ? 1 : 0);
      const q = Math.max(p * (1 - p), 1e-12);
      for (let j = 0; j <= d; j++) {
        g[j] += r * z[i][j];
        for (let k = 0; k <= d; k++) h[j][k] += q * z[i][j] * z[i][k];
      }
    }
    for (let j = 1; j <= d; j++) {
      g[j] += l2 * n * w[j];
      h[j][j] += l2 * n;
    }
    const step = solve(h, g);
    let maxStep = 0;
    for (let j = 0; j <= d; j++) {
      w[j] -= step[j];
      maxStep = Math.max(maxStep, Math.abs(step[j]));
    }
    if (maxStep < 1e-10) break;
  }
  return { mean, scale, coefficients: w.slice(1), intercept: w[0] };
}

/** Share of non-digit images assumed among those a deployment is sent: the digit stage's prior. */
export const ASSUMED_NON_DIGIT_SHARE = 0.05;

export interface MappingFit extends LogisticFit {
  method: 'logistic' | 'logistic-two-stage';
  digit?: LogisticFit & { priorShift: number; assumedNonDigitShare: number };
  /** Share of non-digit rows in the fit set. */
  nonDigitShare: number;
}

/**
 * Fits the confidence mapping on rows of feature values. With non-digit rows: two stages (see
 * model/metadata.ts) — P(right | digit) on the digit rows (right vs wrong answers) and P(digit) on
 * every row (digit vs non-digit), its score shifted from the fit set's non-digit share to
 * `assumedNonDigitShare`. Without: one logistic on the digits. Pure and deterministic.
 */
export function fitConfidenceMapping(x: number[][], right: ArrayLike<boolean>, isDigit: ArrayLike<boolean>, assumedNonDigitShare = ASSUMED_NON_DIGIT_SHARE): MappingFit {
  if (x.length !== right.length || x.length !== isDigit.length) throw new RangeError('fitConfidenceMapping needs one label of each kind per row');
  const digitIdx = Array.from({ length: x.length }, (_, i) => i).filter((i) => isDigit[i]);
  if (Array.from({ length: x.length }, (_, i) => i).some((i) => !isDigit[i] && right[i])) throw new RangeError('a non-digit row cannot be a right answer');
  const rightStage = fitLogistic(
    digitIdx.map((i) => x[i]),
    digitIdx.map((i) => right[i]),
  );
  const nonDigits = x.length - digitIdx.length;
  if (nonDigits === 0) return { method: 'logistic', ...rightStage, nonDigitShare: 0 };
  const fitShare = nonDigits / x.length;
  const logOdds = (share: number): number => Math.log((1 - share) / share);
  return {
    method: 'logistic-two-stage',
    ...rightStage,
    digit: { ...fitLogistic(x, isDigit), priorShift: logOdds(assumedNonDigitShare) - logOdds(fitShare), assumedNonDigitShare },
    nonDigitShare: fitShare,
  };
}

/** What a fit set's description adds for a two-stage mapping. */
export const twoStageNote = (fit: Pick<MappingFit, 'digit'>): string =>
  fit.digit ? `; two stages: P(right | digit) fitted on the digits, P(digit) on digits vs non-digits, shifted to ${fit.digit.assumedNonDigitShare * 100}% non-digits in traffic` : '';

/** Solves A x = b for a symmetric positive-definite A (Gaussian elimination with partial pivoting). */
export function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    [m[c], m[p]] = [m[p], m[c]];
    if (Math.abs(m[c][c]) < 1e-300) throw new Error('singular system');
    for (let r = c + 1; r < n; r++) {
      const f = m[r][c] / m[c][c];
      for (let k = c; k <= n; k++) m[r][k] -= f * m[c][k];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = m[r][n];
    for (let k = r + 1; k < n; k++) s -= m[r][k] * x[k];
    x[r] = s / m[r][r];
  }
  return x;
}

/**
 * The lowest threshold t (among the observed confidences) such that, of the answers with
 * confidence ≥ t, at least `precision` are correct; 1 when no threshold reaches it. Also returns
 * the coverage (share of all answers that are reliable) at t. Pure.
 */
export function lowestReliableThreshold(confidence: ArrayLike<number>, correct: ArrayLike<boolean>, precision = 0.99): { threshold: number; coverage: number; precision: number } {
  const order = Array.from({ length: confidence.length }, (_, i) => i).sort((a, b) => confidence[b] - confidence[a]);
  let ok = 0;
  let best: { threshold: number; coverage: number; precision: number } = { threshold: 1, coverage: 0, precision: 1 };
  for (let k = 0; k < order.length; k++) {
    if (correct[order[k]]) ok++;
    const t = confidence[order[k]];
    // only at the end of a run of equal confidences does "≥ t" describe exactly the first k+1 answers
    if (k + 1 < order.length && confidence[order[k + 1]] === t) continue;
    const p = ok / (k + 1);
    if (p >= precision) best = { threshold: t, coverage: (k + 1) / order.length, precision: p };
  }
  return best;
}
