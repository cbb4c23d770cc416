/**
 * Whether an observed share of answers (e.g. from the canary track) is consistent with an
 * expected probability: the acceptance interval of a two-sided exact binomial test. Under
 * Binomial(n, p) a count falls outside [lo, hi] with probability at most `alpha`, so a correct
 * split fails the check that rarely, and a wrong one is caught once n is large enough.
 */

function logFactorial(n: number): number {
  let s = 0;
  for (let i = 2; i <= n; i++) s += Math.log(i);
  return s;
}

/** P(X = k) for X ~ Binomial(n, p), every k in 0..n. */
export function binomialPmf(n: number, p: number): number[] {
  if (!Number.isInteger(n) || n < 0) throw new Error(`n must be a non-negative integer, got ${n}`);
  if (!(p >= 0 && p <= 1)) throw new Error(`p must be in [0, 1], got ${p}`);
  if (p === 0 || p === 1) return Array.from({ length: n + 1 }, (_, k) => ((p === 0 ? k === 0 : k === n) ? 1 : 0));
  const lnN = logFactorial(n);
  const out: number[] = [];
  let lnK = 0; // ln k!
  for (let k = 0; k <= n; k++) {
    if (k > 0) lnK += Math.log(k);
    const lnNK = lnN - lnK - logFactorial(n - k);
    out.push(Math.exp(lnNK + k * Math.log(p) + (n - k) * Math.log(1 - p)));
  }
  return out;
}

export interface Interval {
  lo: number;
  hi: number;
}

/** The widest equal-tailed [lo, hi] with P(X < lo) ≤ alpha/2 and P(X > hi) ≤ alpha/2. */
export function acceptanceInterval(n: number, p: number, alpha: number): Interval {
  const pmf = binomialPmf(n, p);
  let lo = 0;
  for (let below = 0; lo < n && below + pmf[lo] <= alpha / 2; lo++) below += pmf[lo];
  let hi = n;
  for (let above = 0; hi > 0 && above + pmf[hi] <= alpha / 2; hi--) above += pmf[hi];
  return { lo, hi };
}
