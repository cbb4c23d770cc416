import { FIELD } from './centre-of-mass.js';
import { inkBox } from './crop.js';
import type { Gray } from './types.js';

// local aliases: hot loops run much faster without a global lookup (notably under jest's vm)
const { abs, floor, max } = Math;

/** How far the centre of mass may sit from MNIST's (14, 14) and still count as placed. */
const CENTRE_TOLERANCE = 0.65;

/**
 * True when the image already is a digit in MNIST form: 28 × 28, its box 18–20 px on the longer
 * side and its centre of mass within a pixel rounding of MNIST's. Such an image is a fixed point
 * of the MNIST procedure (the box ignores a faint fringe, e.g. JPEG ringing), so it is passed through as it is: running it through crop, resample
 * and whole-pixel centring again could only move it by a pixel or drop its small marks.
 */
export function isMnistForm(ink: Gray): boolean {
  if (ink.width !== FIELD || ink.height !== FIELD) return false;
  const box = inkBox(ink, 0.1);
  if (!box) return false;
  const longer = max(box.x1 - box.x0, box.y1 - box.y0);
  if (longer < 18 || longer > 20) return false;
  let mass = 0;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < ink.data.length; i++) {
    const v = ink.data[i];
    mass += v;
    sx += v * (i % FIELD);
    sy += v * floor(i / FIELD);
  }
  return abs(sx / mass - 14) <= CENTRE_TOLERANCE && abs(sy / mass - 14) <= CENTRE_TOLERANCE;
}
