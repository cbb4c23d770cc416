/** The evaluation's images besides the clean MNIST sets: photo variants and non-digits, at a size. */
import { Sfc32 } from '../../runtime/engine/prng.js';
import { preprocessImage } from '../../runtime/preprocess/index.js';
import { loadFashion, pick, type ImageSet } from '../../runtime/train/datasets.js';
import { PHOTO_VARIANTS, renderPhotoVariant, type PhotoVariant } from '../data/photo-variants.js';

/** k indices spread evenly over 0..n-1 (all of them when k ≥ n). */
export const evenly = (n: number, k: number): number[] => Array.from({ length: Math.min(k, n) }, (_, i) => Math.floor((i * n) / Math.min(k, n)));

/** At most k images of the set, evenly spaced; the set itself when it has no more. */
export const atMost = (set: ImageSet, k: number): ImageSet => (k >= set.n ? set : pick(set, evenly(set.n, k)));

/** The first `perClass` t10k digits of each class, and a renderer of them as a photo variant (through the preprocessing). */
export function photoDigits(test: ImageSet, perClass: number): { labels: number[]; render(v: PhotoVariant): Promise<ImageSet> } {
  const byClass: number[][] = Array.from({ length: 10 }, () => []);
  for (let i = 0; i < test.n && byClass.some((c) => c.length < perClass); i++) if (byClass[test.y[i]].length < perClass) byClass[test.y[i]].push(i);
  const idx = byClass.flat();
  const labels = idx.map((i) => test.y[i]);
  return {
    labels,
    async render(v) {
      const x = new Float32Array(idx.length * 784);
      for (let j = 0; j < idx.length; j++) {
        const digit = { label: test.y[idx[j]], pixels: test.x.slice(idx[j] * 784, (idx[j] + 1) * 784) };
        const { pixels } = await preprocessImage(await renderPhotoVariant(digit, v, j), { maxInputPixels: 40_000_000 });
        x.set(pixels, j * 784);
      }
      return { x, y: Int32Array.from(labels), n: idx.length };
    },
  };
}

export { PHOTO_VARIANTS };

/**
 * The non-digit sets, at most `limit` images each: Fashion-MNIST t10k, printed letters (rendered
 * before the engine loads: see cli.ts), pixel noise and blank paper (seeded, the same every run).
 */
export async function nonDigitSets(limit: number, fashionDir: string, letters: ImageSet | undefined, log: (line: string) => void): Promise<Record<string, ImageSet>> {
  const rng = new Sfc32(0x0d0d);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
  const synth = (n: number, fill: (img: Float32Array) => void): ImageSet => {
    const x = new Float32Array(n * 784);
    for (let i = 0; i < n; i++) {
      const img = new Float32Array(784);
      fill(img);
      x.set(img, i * 784);
    }
    return { x, y: new Int32Array(n).fill(-1), n };
  };
  const sets: Record<string, ImageSet> = {};
  const fashion = await loadFashion('t10k', limit, fashionDir);
  if (!fashion) throw new Error(`Fashion-MNIST not found in ${fashionDir} (apt-get install dataset-fashion-mnist)`);
  sets.fashionMnistT10k = fashion;
  if (letters) sets.printedLetters = atMost(letters, limit);
  else log('no fonts rendered: no printed letters');
  // pixel noise: every pixel N(μ, 0.25) with μ per image in 0.2..0.6, clipped
  sets.noise = synth(Math.min(1000, limit), (img) => {
    const mu = 0.2 + 0.4 * rng.next();
    for (let k = 0; k < 784; k++) img[k] = Math.min(1, Math.max(0, mu + 0.25 * gauss()));
  });
  // blank paper: a uniform grey level with faint sensor noise (σ 0.02)
  sets.blank = synth(Math.min(300, limit), (img) => {
    const g = rng.next();
    for (let k = 0; k < 784; k++) img[k] = Math.min(1, Math.max(0, g + 0.02 * gauss()));
  });
  return sets;
}
