/** metav1.MicroTime as the apiserver wants it: RFC 3339 with exactly 6 fractional digits. */
export function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
