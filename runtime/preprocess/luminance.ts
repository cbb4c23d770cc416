import type { Gray, Planes } from './types.js';

/** Rec. 601 luma of the planes (the grey plane itself when there is one). */
export function luminance(img: Planes): Gray {
  const { width, height, planes } = img;
  if (planes.length === 1) return { width, height, data: planes[0] };
  const [r, g, b] = planes;
  const data = new Float32Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = 0.299 * r[i] + 0.587 * g[i] + 0.114 * b[i];
  return { width, height, data };
}
