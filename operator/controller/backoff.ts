/** Exponential backoff: base × 2^attempt, capped, with up to 10% jitter so retries do not align. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const raw = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 40));
  return Math.round(Math.min(maxMs, raw * (1 + 0.1 * random())));
}
