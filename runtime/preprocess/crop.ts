import type { Box } from './components.js';
import type { Gray } from './types.js';

/** Bounding box of the pixels above `level`, or null when there are none. */
export function inkBox(img: Gray, level = 0): Box | null {
  const { width, height, data } = img;
  let x0 = width;
  let y0 = height;
  let x1 = 0;
  let y1 = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (data[y * width + x] <= level) continue;
      if (x < x0) x0 = x;
      if (x >= x1) x1 = x + 1;
      if (y < y0) y0 = y;
      y1 = y + 1;
    }
  }
  return x1 > x0 ? { x0, y0, x1, y1 } : null;
}

/** The part of the image inside the box, padded by `pad` zero pixels on every side. */
export function crop(img: Gray, box: Box, pad = 0): Gray {
  const width = box.x1 - box.x0 + 2 * pad;
  const height = box.y1 - box.y0 + 2 * pad;
  const data = new Float32Array(width * height);
  for (let y = box.y0; y < box.y1; y++) {
    const row = img.data.subarray(y * img.width + box.x0, y * img.width + box.x1);
    data.set(row, (y - box.y0 + pad) * width + pad);
  }
  return { width, height, data };
}
