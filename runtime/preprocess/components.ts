import type { Gray } from './types.js';

// local aliases: hot loops run much faster without a global lookup (notably under jest's vm)
const { hypot, max, min } = Math;

/** Pixels at least this inky belong to a stroke (lower ones are its anti-aliased fringe). */
const STROKE_LEVEL = 0.1;
/**
 * A blob with less ink than one full pixel of the final 20-px digit is a speck (dust, sensor
 * noise, JPEG ringing): it would vanish in the downscale anyway, but it would stretch the box.
 * Measured at the final scale, so MNIST's own small marks (a 28×28 input) are kept.
 */
const SPECK_OUTPUT_PIXELS = 1;
const DIGIT_BOX = 20;
/** A blob further from the digit than this share of the digit's size is something else. */
const NEAR_SHARE = 0.5;

export interface Box {
  x0: number;
  y0: number;
  x1: number; // exclusive
  y1: number; // exclusive
}

interface Blob extends Box {
  root: number;
  mass: number;
  area: number;
}

export interface Strokes {
  /** The ink with specks and far-away blobs removed. */
  ink: Gray;
  /** Blobs kept as the digit. */
  components: number;
  /** Blobs seen in all, specks included. */
  blobs: number;
}

/** Labels 8-connected blobs of ink with a union-find; returns per-pixel labels (0 = none). */
function label(img: Gray): { labels: Int32Array; blobs: Blob[] } {
  const { width, height, data } = img;
  const labels = new Int32Array(width * height);
  const parent: number[] = [0];
  const find = (a: number): number => {
    while (parent[a] !== a) a = parent[a] = parent[parent[a]];
    return a;
  };
  const union = (a: number, b: number): number => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent[max(ra, rb)] = min(ra, rb);
    return min(ra, rb);
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (data[i] < STROKE_LEVEL) continue;
      let l = 0;
      const neighbours = [
        x > 0 ? labels[i - 1] : 0,
        y > 0 && x > 0 ? labels[i - width - 1] : 0,
        y > 0 ? labels[i - width] : 0,
        y > 0 && x < width - 1 ? labels[i - width + 1] : 0,
      ];
      for (const nl of neighbours) if (nl) l = l ? union(l, nl) : find(nl);
      if (!l) {
        l = parent.length;
        parent.push(l);
      }
      labels[i] = l;
    }
  }
  const byRoot = new Map<number, Blob>();
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (!labels[i]) continue;
      const root = find(labels[i]);
      labels[i] = root;
      let b = byRoot.get(root);
      if (!b) byRoot.set(root, (b = { root, x0: x, y0: y, x1: x + 1, y1: y + 1, mass: 0, area: 0 }));
      b.mass += data[i];
      b.area += 1;
      if (x < b.x0) b.x0 = x;
      if (x >= b.x1) b.x1 = x + 1;
      if (y >= b.y1) b.y1 = y + 1;
    }
  }
  return { labels, blobs: [...byRoot.values()] };
}

function gap(a: Box, b: Box): number {
  const dx = max(0, a.x0 - b.x1, b.x0 - a.x1);
  const dy = max(0, a.y0 - b.y1, b.y0 - a.y1);
  return hypot(dx, dy);
}

/**
 * Keeps the digit's strokes: the heaviest blob, and the other blobs close to it that are more
 * than specks (a 5's detached bar, a broken pen stroke); drops dust and far-away marks. The faint
 * fringe next to a kept stroke is kept with it.
 */
export function keepDigitStrokes(img: Gray): Strokes {
  const { width, height, data } = img;
  const { labels, blobs } = label(img);
  const out = new Float32Array(width * height);
  if (blobs.length === 0) return { ink: { width, height, data: out }, components: 0, blobs: 0 };
  const ranked = [...blobs].sort((a, b) => b.mass - a.mass);
  const main = ranked[0];
  const union: Box = { x0: main.x0, y0: main.y0, x1: main.x1, y1: main.y1 };
  const kept = new Set<number>([main.root]);
  for (const b of ranked.slice(1)) {
    const size = max(union.x1 - union.x0, union.y1 - union.y0);
    const outputPixels = b.mass * (DIGIT_BOX / size) ** 2;
    if (outputPixels < SPECK_OUTPUT_PIXELS) break;
    if (gap(b, union) > NEAR_SHARE * size) continue;
    kept.add(b.root);
    union.x0 = min(union.x0, b.x0);
    union.y0 = min(union.y0, b.y0);
    union.x1 = max(union.x1, b.x1);
    union.y1 = max(union.y1, b.y1);
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (labels[i]) {
        if (kept.has(labels[i])) out[i] = data[i];
      } else if (data[i] > 0 && touchesKept(labels, kept, width, height, x, y)) {
        out[i] = data[i];
      }
    }
  }
  return { ink: { width, height, data: out }, components: kept.size, blobs: blobs.length };
}

function touchesKept(labels: Int32Array, kept: Set<number>, width: number, height: number, x: number, y: number): boolean {
  for (let dy = -1; dy <= 1; dy++) {
    for (let dx = -1; dx <= 1; dx++) {
      const X = x + dx;
      const Y = y + dy;
      if (X < 0 || Y < 0 || X >= width || Y >= height) continue;
      const l = labels[Y * width + X];
      if (l && kept.has(l)) return true;
    }
  }
  return false;
}
