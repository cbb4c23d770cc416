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
  // provisional labels' parents; a set's root is its smallest label
  let parent = new Int32Array(256);
  let next = 1;
  const find = (a: number): number => {
    while (parent[a] !== a) a = parent[a] = parent[parent[a]];
    return a;
  };
  const join = (l: number, nl: number): number => {
    if (!nl) return l;
    const rb = find(nl);
    if (!l) return rb;
    const ra = find(l);
    if (ra === rb) return ra;
    if (ra < rb) {
      parent[rb] = ra;
      return ra;
    }
    parent[ra] = rb;
    return rb;
  };
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      const i = row + x;
      if (data[i] < STROKE_LEVEL) continue;
      let l = 0;
      if (x > 0) l = join(l, labels[i - 1]);
      if (y > 0) {
        if (x > 0) l = join(l, labels[i - width - 1]);
        l = join(l, labels[i - width]);
        if (x < width - 1) l = join(l, labels[i - width + 1]);
      }
      if (!l) {
        if (next === parent.length) {
          const grown = new Int32Array(2 * parent.length);
          grown.set(parent);
          parent = grown;
        }
        l = next++;
        parent[l] = l;
      }
      labels[i] = l;
    }
  }
  // per root: its blob, in the order blobs first appear in raster order
  const blobOf: (Blob | undefined)[] = new Array<Blob | undefined>(next);
  const blobs: Blob[] = [];
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      const i = row + x;
      if (!labels[i]) continue;
      const root = find(labels[i]);
      labels[i] = root;
      let b = blobOf[root];
      if (!b) {
        b = blobOf[root] = { root, x0: x, y0: y, x1: x + 1, y1: y + 1, mass: 0, area: 0 };
        blobs.push(b);
      }
      b.mass += data[i];
      b.area += 1;
      if (x < b.x0) b.x0 = x;
      if (x >= b.x1) b.x1 = x + 1;
      if (y >= b.y1) b.y1 = y + 1;
    }
  }
  return { labels, blobs };
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
  // kept[root] = 1 for the blobs kept (labels are roots after labelling)
  const kept = new Uint8Array(labelCount(blobs));
  kept[main.root] = 1;
  let keptCount = 1;
  for (const b of ranked.slice(1)) {
    const size = max(union.x1 - union.x0, union.y1 - union.y0);
    const outputPixels = b.mass * (DIGIT_BOX / size) ** 2;
    if (outputPixels < SPECK_OUTPUT_PIXELS) break;
    if (gap(b, union) > NEAR_SHARE * size) continue;
    kept[b.root] = 1;
    keptCount++;
    union.x0 = min(union.x0, b.x0);
    union.y0 = min(union.y0, b.y0);
    union.x1 = max(union.x1, b.x1);
    union.y1 = max(union.y1, b.y1);
  }
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      const i = row + x;
      const l = labels[i];
      if (l) {
        if (kept[l]) out[i] = data[i];
      } else if (data[i] > 0 && touchesKept(labels, kept, width, height, x, y)) {
        out[i] = data[i];
      }
    }
  }
  return { ink: { width, height, data: out }, components: keptCount, blobs: blobs.length };
}

function labelCount(blobs: Blob[]): number {
  let top = 0;
  for (const b of blobs) if (b.root > top) top = b.root;
  return top + 1;
}

function touchesKept(labels: Int32Array, kept: Uint8Array, width: number, height: number, x: number, y: number): boolean {
  for (let dy = -1; dy <= 1; dy++) {
    for (let dx = -1; dx <= 1; dx++) {
      const X = x + dx;
      const Y = y + dy;
      if (X < 0 || Y < 0 || X >= width || Y >= height) continue;
      if (kept[labels[Y * width + X]]) return true;
    }
  }
  return false;
}
