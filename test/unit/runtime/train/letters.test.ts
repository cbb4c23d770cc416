import { toMnistForm } from '../../../../runtime/train/letters.js';

describe('toMnistForm', () => {
  it('returns undefined for a blank raster', () => {
    expect(toMnistForm(new Uint8Array(100), 10, 10)).toBeUndefined();
  });

  it('scales the ink box so its longer side is 20 px and centres its mass in 28×28', () => {
    const w = 80;
    const h = 60;
    const src = new Uint8Array(w * h);
    for (let y = 5; y < 45; y++) for (let x = 50; x < 70; x++) src[y * w + x] = 255; // 20 wide, 40 tall
    const out = toMnistForm(src, w, h)!;
    let rows = 0;
    let cols = 0;
    let m = 0;
    let mx = 0;
    let my = 0;
    for (let y = 0; y < 28; y++) if (out.slice(y * 28, y * 28 + 28).some((v) => v > 0.5)) rows++;
    for (let x = 0; x < 28; x++) if (Array.from({ length: 28 }, (_, y) => out[y * 28 + x]).some((v) => v > 0.5)) cols++;
    out.forEach((v, i) => {
      m += v;
      mx += (i % 28) * v;
      my += Math.floor(i / 28) * v;
    });
    expect(rows).toBe(20);
    expect(cols).toBe(10);
    expect(Math.abs(mx / m - 13.5)).toBeLessThanOrEqual(1);
    expect(Math.abs(my / m - 13.5)).toBeLessThanOrEqual(1);
  });
});
