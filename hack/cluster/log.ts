/** Plain progress lines on stderr, so stdout stays free for what a caller may parse. */
export function log(message: string): void {
  process.stderr.write(`[cluster] ${message}\n`);
}

/** Seconds since `start` (a Date.now() value), one decimal, for progress lines. */
export function since(start: number): string {
  return `${((Date.now() - start) / 1000).toFixed(1)}s`;
}
