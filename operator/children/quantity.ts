/** Formats a non-negative number as a canonical Kubernetes quantity with milli precision ("4", "250m"). */
export function toQuantity(value: number): string {
  const milli = Math.round(value * 1000);
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}

/** Milliseconds as a quantity of seconds: 250 → "250m", 2000 → "2". */
export function msToSecondsQuantity(ms: number): string {
  return toQuantity(ms / 1000);
}
