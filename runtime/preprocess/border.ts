import type { Gray } from './types.js';

// local aliases: hot loops run much faster without a global lookup (notably under jest's vm)
const { ceil, max, min, round } = Math;

/** Width of the frame along the edges taken as "background" (4% of the shorter side, ≥ 1 px). */
export function borderWidth(width: number, height: number): number {
  return max(1, round(0.04 * min(width, height)));
}

/** The values of a plane on the border frame, in raster order. */
export function borderValues(img: Gray): Float32Array {
  const { width, height, data } = img;
  const b = min(borderWidth(width, height), ceil(width / 2), ceil(height / 2));
  // a middle row contributes its first and last b pixels, or all of it when those overlap
  const sideSpan = 2 * b >= width ? width : 2 * b;
  let edgeRows = 0;
  for (let y = 0; y < height; y++) if (y < b || y >= height - b) edgeRows++;
  const out = new Float32Array(edgeRows * width + (height - edgeRows) * sideSpan);
  let k = 0;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    if (y < b || y >= height - b || sideSpan === width) {
      out.set(data.subarray(row, row + width), k);
      k += width;
    } else {
      out.set(data.subarray(row, row + b), k);
      out.set(data.subarray(row + width - b, row + width), k + b);
      k += sideSpan;
    }
  }
  return out;
}
