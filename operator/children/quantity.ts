/** Formats a non-negative number as a canonical Kubernetes quantity with milli precision ("4", "250m"). */
export function toQuantity(value: number): string {
  const milli = Math.round(value * 1000);
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}

/** Milliseconds as a quantity of seconds: 250 → "250m", 2000 → "2". */
export function msToSecondsQuantity(ms: number): string {
  return toQuantity(ms / 1000);
}

/** A quantity's exact value: sign × mantissa × 10^exp10 × 2^exp2. */
interface ExactQuantity {
  negative: boolean;
  mantissa: bigint;
  exp10: number;
  exp2: number;
}

const DECIMAL_SUFFIX: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIX: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const QUANTITY = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei)|([numkMGTPE])|[eE]([+-]?\d+))?$/;

/** Parses a Kubernetes quantity ("0.5", "500m", "1Gi", "1e3", 2) exactly; undefined if it is not one. */
export function parseQuantity(q: string | number): ExactQuantity | undefined {
  const m = QUANTITY.exec(String(q).trim());
  if (!m) return undefined;
  const [, sign, number, binary, decimal, exponent] = m;
  const [whole, fraction = ''] = number.split('.');
  return {
    negative: sign === '-',
    mantissa: BigInt(`${whole}${fraction}` || '0'),
    exp10: -fraction.length + (exponent !== undefined ? Number(exponent) : DECIMAL_SUFFIX[decimal ?? '']),
    exp2: binary ? BINARY_SUFFIX[binary] : 0,
  };
}

function scaled(q: ExactQuantity, exp10: number): bigint {
  // q × 10^(-exp10), an integer when exp10 ≤ q.exp10
  const v = q.mantissa * 10n ** BigInt(q.exp10 - exp10) * 2n ** BigInt(q.exp2);
  return q.negative ? -v : v;
}

/**
 * Whether two quantities have the same value however they are spelled: the apiserver stores
 * "0.5" as "500m" and "1073741824" as "1Gi", and neither is a change.
 */
export function sameQuantity(a: string | number, b: string | number): boolean {
  const pa = parseQuantity(a);
  const pb = parseQuantity(b);
  if (!pa || !pb) return false;
  const exp = Math.min(pa.exp10, pb.exp10);
  return scaled(pa, exp) === scaled(pb, exp);
}
