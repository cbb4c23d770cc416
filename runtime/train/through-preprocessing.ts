import sharp from 'sharp';
import { preprocessImage } from '../preprocess/index.js';
import type { ImageSet } from './datasets.js';

/** Limits of a served request's preprocessing (the runtime's defaults); a 28×28 PNG is far inside them. */
const LIMITS = { maxInputPixels: 40_000_000 };

/**
 * Each 28×28 image of the set encoded as a PNG and passed through the runtime's own
 * preprocessing, as a client sending it would have it served: the confidence mapping and the
 * threshold are fitted and evaluated on what the engine really sees. An image the preprocessing
 * finds blank stays in the set as the all-zero input the runtime would pass on. Labels are kept.
 */
export async function throughPreprocessing(set: ImageSet): Promise<{ set: ImageSet; blank: number }> {
  const x = new Float32Array(set.n * 784);
  const grey = Buffer.alloc(784);
  let blank = 0;
  for (let i = 0; i < set.n; i++) {
    for (let k = 0; k < 784; k++) grey[k] = Math.round(255 * Math.min(1, Math.max(0, set.x[i * 784 + k])));
    const png = await sharp(grey, { raw: { width: 28, height: 28, channels: 1 } }).png().toBuffer();
    const { pixels, facts } = await preprocessImage(png, LIMITS);
    if (facts.inkFraction === 0) blank++;
    x.set(pixels, i * 784);
  }
  return { set: { x, y: set.y, n: set.n }, blank };
}
