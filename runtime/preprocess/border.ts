import type { Gray } from './types.js';

/** Width of the frame along the edges taken as "background" (4% of the shorter side, ≥ 1 px). */
export function borderWidth(width: number, height: number): number {
  return Math.max(1, Math.round(0.04 * Math.min(width, height)));
}

/** Calls `visit(i)` for each pixel index in the border frame. */
export function forEachBorderPixel(width: number, height: number, visit: (i: number) => void): void {
  const b = Math.min(borderWidth(width, height), Math.ceil(width / 2), Math.ceil(height / 2));
  for (let y = 0; y < height; y++) {
    const edgeRow = y < b || y >= height - b;
    for (let x = 0; x < width; x++) {
      if (edgeRow || x < b || x >= width - b) visit(y * width + x);
    }
  }
}

/** The values of a plane on the border frame. */
export function borderValues(img: Gray): Float32Array {
  const out: number[] = [];
  forEachBorderPixel(img.width, img.height, (i) => out.push(img.data[i]));
  return Float32Array.from(out);
}
