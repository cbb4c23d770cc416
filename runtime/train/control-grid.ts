/**
 * The value at pixel (x, y) of a 28×28 image of an n×n grid of control values (row-major)
 * stretched over the whole image with bilinear interpolation: the corner points sit on the
 * image's corner pixels. Used for smooth random fields (elastic offsets, smooth-noise outliers).
 */
export function sampleControlGrid(g: ArrayLike<number>, n: number, x: number, y: number): number {
  const u = (x / 27) * (n - 1);
  const v = (y / 27) * (n - 1);
  const i0 = Math.min(n - 2, Math.floor(u));
  const j0 = Math.min(n - 2, Math.floor(v));
  const fu = u - i0;
  const fv = v - j0;
  return (1 - fv) * ((1 - fu) * g[j0 * n + i0] + fu * g[j0 * n + i0 + 1]) + fv * ((1 - fu) * g[(j0 + 1) * n + i0] + fu * g[(j0 + 1) * n + i0 + 1]);
}
