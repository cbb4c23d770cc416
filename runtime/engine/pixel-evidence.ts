import type { Evidence } from './confidence.js';
import { inkFraction } from './feature-density.js';
import { strokeShape } from './stroke-shape.js';

/**
 * The evidence a confidence mapping may use that comes from the image's pixels alone; reported
 * in `uncertainty` only when the model's calibration uses it. Shared by the engine and training.
 */
export function pixelEvidence(pixels: ArrayLike<number>, offset: number, size: number, features: readonly string[]): Evidence {
  const e: Evidence = { inkFraction: inkFraction(pixels, offset, size) };
  if (features.includes('edgeDensity') || features.includes('interiorShare')) {
    const shape = strokeShape(pixels, offset);
    if (features.includes('edgeDensity')) e.edgeDensity = shape.edgeDensity;
    if (features.includes('interiorShare')) e.interiorShare = shape.interiorShare;
  }
  return e;
}
