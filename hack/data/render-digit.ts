import sharp, { type Sharp } from 'sharp';

/**
 * Draws a 28×28 MNIST digit as a real encoded image: any format, polarity, size, placement,
 * pen, colour, lighting, noise, blur, rotation, alpha and EXIF orientation. Deterministic (seeded
 * noise). Used by the tests (via test/support/images.ts) and the phone-photo evaluation.
 */

// local aliases: hot loops run much faster without a global lookup (notably under jest's vm)
const { PI, ceil, cos, floor, hypot, imul, log, max, min, round, sqrt } = Math;

export type EncodeFormat = 'png' | 'png16' | 'jpeg' | 'jpeg-cmyk' | 'webp' | 'gif' | 'tiff' | 'avif';

export interface Rgb {
  r: number;
  g: number;
  b: number;
}

export interface EncodeOptions {
  format?: EncodeFormat;
  /** Dark ink on light paper instead of MNIST's bright-on-dark. */
  invert?: boolean;
  /** The digit is drawn 28·scale px square (smooth upscale with crisp, pen-like edges). */
  scale?: number;
  /** Canvas size; defaults to the digit's size. */
  canvas?: { width: number; height: number };
  /** Top-left of the digit on the canvas; defaults to centred. */
  offset?: { x: number; y: number };
  /** Standard deviation of Gaussian noise added per channel, in 0..1 units. */
  noise?: number;
  /** Gaussian blur sigma in px (out of focus). */
  blur?: number;
  /** Rotation of the digit in degrees (clockwise). */
  rotate?: number;
  /** Ink colour (0..255); default black on paper, white on dark. */
  colour?: Rgb;
  /** Paper/background colour (0..255); default white when inverted, black otherwise. */
  paper?: Rgb;
  /** Lighting falloff across the canvas (0 = even, 0.5 = the far corner gets half the light). */
  gradient?: number;
  /**
   * Redraw the digit with a pen of this width, relative to the drawn digit's 28·scale size
   * (MNIST's own strokes are about 0.1; a fine pen photographed large 0.02, a marker 0.2):
   * the strokes are thinned to their skeleton and drawn again with a round nib. Needs scale ≥ 2.
   */
  stroke?: number;
  /** Ink on a transparent canvas: colour = ink colour, alpha = ink. */
  transparent?: boolean;
  /** Store a single grey channel (plus alpha when transparent). */
  grey?: boolean;
  /** EXIF orientation tag (1, 3, 6 or 8); pixels are stored so that the oriented image is upright. */
  orientation?: 1 | 3 | 6 | 8;
  /** Lossy quality for JPEG, WebP and AVIF. */
  quality?: number;
  seed?: number;
}

/** A seeded uniform generator (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(random: () => number): () => number {
  return () => sqrt(-2 * log(1 - random())) * cos(2 * PI * random());
}

function smoothstep(lo: number, hi: number, x: number): number {
  const t = min(1, max(0, (x - lo) / (hi - lo)));
  return t * t * (3 - 2 * t);
}

interface InkMap {
  width: number;
  height: number;
  ink: Float32Array;
}

async function inkFromRaster(img: Sharp): Promise<InkMap> {
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
  const ink = new Float32Array(info.width * info.height);
  for (let i = 0; i < ink.length; i++) ink[i] = data[i * info.channels] / 255;
  return { width: info.width, height: info.height, ink };
}

function rasterOf(map: InkMap): Sharp {
  const bytes = Buffer.alloc(map.ink.length);
  for (let i = 0; i < bytes.length; i++) bytes[i] = round(255 * min(1, max(0, map.ink[i])));
  return sharp(bytes, { raw: { width: map.width, height: map.height, channels: 1 } });
}

/** Zhang–Suen thinning of the ink above 0.5: the one-pixel skeleton of the strokes. */
function skeleton(map: InkMap): Uint8Array {
  const { width, height } = map;
  const on = new Uint8Array(width * height);
  for (let i = 0; i < on.length; i++) on[i] = map.ink[i] > 0.5 ? 1 : 0;
  const at = (x: number, y: number): number => (x < 0 || y < 0 || x >= width || y >= height ? 0 : on[y * width + x]);
  for (let changed = true; changed; ) {
    changed = false;
    for (const pass of [0, 1]) {
      const remove: number[] = [];
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          if (!on[y * width + x]) continue;
          const p = [at(x, y - 1), at(x + 1, y - 1), at(x + 1, y), at(x + 1, y + 1), at(x, y + 1), at(x - 1, y + 1), at(x - 1, y), at(x - 1, y - 1)];
          const neighbours = p.reduce((a, b) => a + b, 0);
          let transitions = 0;
          for (let k = 0; k < 8; k++) if (!p[k] && p[(k + 1) % 8]) transitions++;
          const [p2, , p4, , p6, , p8] = p;
          const ok = pass === 0 ? !(p2 && p4 && p6) && !(p4 && p6 && p8) : !(p2 && p4 && p8) && !(p2 && p6 && p8);
          if (neighbours >= 2 && neighbours <= 6 && transitions === 1 && ok) remove.push(y * width + x);
        }
      }
      for (const i of remove) on[i] = 0;
      if (remove.length) changed = true;
    }
  }
  return on;
}

/**
 * The strokes redrawn with a round nib of the given radius (px at the drawn size): the skeleton
 * is found on a 112-px version (thinning is slow at photo size) and each bone is drawn at full
 * size as a capsule to its neighbours, anti-aliased at the edge.
 */
function redrawWithPen(pixels: Float32Array, size: number, radius: number): Promise<InkMap> {
  return inkFromRaster(rasterOf({ width: 28, height: 28, ink: pixels }).resize(112, 112, { kernel: 'cubic' })).then((small) => {
    for (let i = 0; i < small.ink.length; i++) small.ink[i] = smoothstep(0.33, 0.57, small.ink[i]);
    const bones = skeleton(small);
    const k = size / 112;
    const ink = new Float32Array(size * size);
    const r = max(0.5, radius);
    const dab = (cx: number, cy: number): void => {
      for (let Y = max(0, floor(cy - r - 1)); Y <= min(size - 1, ceil(cy + r + 1)); Y++) {
        for (let X = max(0, floor(cx - r - 1)); X <= min(size - 1, ceil(cx + r + 1)); X++) {
          const i = Y * size + X;
          if (ink[i] >= 1) continue;
          const v = min(1, max(0, r + 0.5 - hypot(X + 0.5 - cx, Y + 0.5 - cy)));
          if (v > ink[i]) ink[i] = v;
        }
      }
    };
    for (let y = 0; y < 112; y++) {
      for (let x = 0; x < 112; x++) {
        if (!bones[y * 112 + x]) continue;
        const from = { x: (x + 0.5) * k, y: (y + 0.5) * k };
        dab(from.x, from.y);
        for (const [dx, dy] of [[1, 0], [0, 1], [1, 1], [-1, 1]]) {
          const X = x + dx;
          const Y = y + dy;
          if (X < 0 || X >= 112 || Y >= 112 || !bones[Y * 112 + X]) continue;
          const steps = ceil((k * hypot(dx, dy)) / max(1, r / 4));
          for (let t = 1; t <= steps; t++) dab(from.x + (dx * k * t) / steps, from.y + (dy * k * t) / steps);
        }
      }
    }
    return { width: size, height: size, ink };
  });
}

/** The digit's ink (0..1) at its drawn size: upscaled, stroke-shaped and rotated. */
async function drawInk(pixels: Float32Array, opts: EncodeOptions): Promise<InkMap> {
  let map: InkMap = { width: 28, height: 28, ink: Float32Array.from(pixels) };
  const scale = opts.scale ?? 1;
  if (scale !== 1) {
    const size = max(1, round(28 * scale));
    map = await inkFromRaster(rasterOf(map).resize(size, size, { kernel: 'cubic' }));

    if (scale >= 2) {
      // a pen's edge is crisp, not the blur of an upscaled 28-px image
      for (let i = 0; i < map.ink.length; i++) map.ink[i] = smoothstep(0.33, 0.57, map.ink[i]);
      if (opts.stroke) map = await redrawWithPen(pixels, size, (opts.stroke * size) / 2);
    }
  }
  if (opts.rotate) {
    map = await inkFromRaster(rasterOf(map).rotate(opts.rotate, { background: { r: 0, g: 0, b: 0 } }));
  }
  return map;
}

/** Renders a 28×28 MNIST digit (0..1, bright on dark) as an encoded image. */
export async function encodeDigit(pixels: Float32Array, opts: EncodeOptions = {}): Promise<Buffer> {
  const map = await drawInk(pixels, opts);
  const width = opts.canvas?.width ?? map.width;
  const height = opts.canvas?.height ?? map.height;
  const ox = opts.offset?.x ?? floor((width - map.width) / 2);
  const oy = opts.offset?.y ?? floor((height - map.height) / 2);
  const paper = opts.paper ?? (opts.invert ? { r: 255, g: 255, b: 255 } : { r: 0, g: 0, b: 0 });
  const inkColour = opts.colour ?? (opts.invert ? { r: 0, g: 0, b: 0 } : { r: 255, g: 255, b: 255 });
  const noise = gaussian(seededRandom(opts.seed ?? 1));
  const sigma = (opts.noise ?? 0) * 255;
  const gradient = opts.gradient ?? 0;

  const colourChannels = opts.grey ? 1 : 3;
  const channels = colourChannels + (opts.transparent ? 1 : 0);
  const out = Buffer.alloc(width * height * channels);
  const paperC = opts.grey ? [0.299 * paper.r + 0.587 * paper.g + 0.114 * paper.b] : [paper.r, paper.g, paper.b];
  const inkC = opts.grey
    ? [0.299 * inkColour.r + 0.587 * inkColour.g + 0.114 * inkColour.b]
    : [inkColour.r, inkColour.g, inkColour.b];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const mx = x - ox;
      const my = y - oy;
      const ink = mx >= 0 && my >= 0 && mx < map.width && my < map.height ? map.ink[my * map.width + mx] : 0;
      const light = 1 - gradient * (0.6 * (x / width) + 0.4 * (y / height));
      const at = (y * width + x) * channels;
      for (let c = 0; c < colourChannels; c++) {
        const base = opts.transparent ? inkC[c] : paperC[c] + (inkC[c] - paperC[c]) * ink;
        const v = base * light + (sigma ? sigma * noise() : 0);
        out[at + c] = round(min(255, max(0, v)));
      }
      if (opts.transparent) out[at + colourChannels] = round(255 * ink);
    }
  }

  let img = sharp(out, { raw: { width, height, channels: channels as 1 | 2 | 3 | 4 } });
  if (opts.blur && opts.blur >= 0.3) img = img.blur(opts.blur);
  const orientation = opts.orientation ?? 1;
  if (orientation !== 1) {
    // stored pixels are turned back so that a viewer applying the tag sees the digit upright
    const undo = { 3: 180, 6: 270, 8: 90 }[orientation];
    img = sharp(await img.png().toBuffer()).rotate(undo).withMetadata({ orientation });
  }
  return encode(img, opts.format ?? 'png', opts.quality, opts.grey === true);
}

function encode(img: Sharp, format: EncodeFormat, quality: number | undefined, grey: boolean): Promise<Buffer> {
  switch (format) {
    case 'png':
      return img.png().toBuffer();
    case 'png16':
      return img.toColourspace(grey ? 'grey16' : 'rgb16').png().toBuffer();
    case 'jpeg':
      return img.jpeg({ quality: quality ?? 90 }).toBuffer();
    case 'jpeg-cmyk':
      return img.toColourspace('cmyk').jpeg({ quality: quality ?? 90 }).toBuffer();
    case 'webp':
      return img.webp({ quality: quality ?? 90 }).toBuffer();
    case 'gif':
      return img.gif().toBuffer();
    case 'tiff':
      return img.tiff({ compression: 'lzw' }).toBuffer();
    case 'avif':
      return img.avif({ quality: quality ?? 70 }).toBuffer();
  }
}
