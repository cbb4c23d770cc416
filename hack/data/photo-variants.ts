/**
 * Phone-photo-like renderings of held-out MNIST digits, and the measure of the preprocessing:
 * is a digit photographed large, in colour, dark-on-light, off-centre, rotated or with a margin
 * classified as well as the same digit given as a clean 28×28 image?
 *
 *   npx tsx hack/data/photo-variants.ts [--per-class 30] [--model DIR (the newest models/mnist-cnn version)] [--variants a,b]
 *                                       [--samples out-dir]   (writes one example image per variant)
 *
 * Reusable: `PHOTO_VARIANTS`, `renderPhotoVariant` and `evaluatePhotoVariants` (which takes any
 * classifier of MNIST-form batches, e.g. the engine's).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { preprocessImage } from '../../runtime/preprocess/index.js';
import { newestVersion } from '../../runtime/model/store.js';
import { heldOutDigits, type Digit } from './mnist-digits.js';
import { encodeDigit, seededRandom, type EncodeOptions } from './render-digit.js';

export interface PhotoVariant {
  name: string;
  description: string;
  /** Encoding options for one digit; `random` is seeded per digit and variant. */
  options(random: () => number): EncodeOptions;
}

const between = (random: () => number, lo: number, hi: number): number => lo + (hi - lo) * random();
const sign = (random: () => number): number => (random() < 0.5 ? -1 : 1);

/** A page a phone might see: off-white paper, uneven light, sensor noise, JPEG, the digit off-centre. */
function paperPhoto(random: () => number, extra: EncodeOptions = {}): EncodeOptions {
  const width = Math.round(between(random, 600, 1200));
  const height = Math.round(width * between(random, 0.7, 1.0));
  const scale = extra.scale ?? (between(random, 0.35, 0.6) * height) / 28;
  const size = Math.round(28 * scale);
  const paperLevel = between(random, 215, 245);
  return {
    invert: true,
    scale,
    canvas: { width, height },
    offset: {
      x: Math.round(between(random, 0.05, 0.95) * Math.max(0, width - size)),
      y: Math.round(between(random, 0.05, 0.95) * Math.max(0, height - size)),
    },
    paper: { r: paperLevel, g: paperLevel - between(random, 0, 8), b: paperLevel - between(random, 5, 20) },
    colour: { r: 25, g: 25, b: 30 },
    gradient: between(random, 0.15, 0.45),
    noise: between(random, 0.015, 0.04),
    format: 'jpeg',
    quality: Math.round(between(random, 65, 90)),
    ...extra,
  };
}

export const PHOTO_VARIANTS: PhotoVariant[] = [
  {
    name: 'clean-png',
    description: 'the 28×28 original as a PNG (MNIST form already)',
    options: () => ({ format: 'png' }),
  },
  {
    name: 'paper-photo',
    description: 'dark ink on off-white paper, 600–1200 px, lighting gradient, noise, JPEG, off-centre',
    options: (r) => paperPhoto(r),
  },
  {
    name: 'rotated',
    description: 'paper photo, digit rotated 4–10° either way',
    options: (r) => paperPhoto(r, { rotate: sign(r) * between(r, 4, 10) }),
  },
  {
    name: 'blue-pen',
    description: 'blue ballpoint on cream paper',
    options: (r) => paperPhoto(r, { colour: { r: 30, g: 55, b: Math.round(between(r, 150, 200)) } }),
  },
  {
    name: 'fine-pen',
    description: 'thin strokes: a fine pen, stroke ≈ 2.5% of the digit size',
    options: (r) => paperPhoto(r, { stroke: between(r, 0.02, 0.035) }),
  },
  {
    name: 'marker',
    description: 'thick strokes: a felt marker, stroke ≈ 13% of the digit size',
    options: (r) => paperPhoto(r, { stroke: between(r, 0.11, 0.15) }),
  },
  {
    name: 'small-in-frame',
    description: 'the digit only ~10% of a 1200 px photo',
    options: (r) => paperPhoto(r, { scale: between(r, 3.5, 5), canvas: { width: 1200, height: 900 } }),
  },
  {
    name: 'out-of-focus',
    description: 'paper photo blurred (σ ≈ 1.5% of the digit size)',
    options: (r) => {
      const o = paperPhoto(r);
      return { ...o, blur: 0.015 * 28 * (o.scale ?? 1) };
    },
  },
  {
    name: 'pencil',
    description: 'faint grey pencil on grey paper, strong noise',
    options: (r) => paperPhoto(r, { colour: { r: 125, g: 125, b: 130 }, paper: { r: 205, g: 203, b: 198 }, noise: 0.04 }),
  },
  {
    name: 'exif-rotated',
    description: 'paper photo stored sideways with EXIF orientation 6, 8 or 3',
    options: (r) => paperPhoto(r, { orientation: ([6, 8, 3] as const)[Math.floor(r() * 3)] }),
  },
  {
    name: 'transparent-png',
    description: 'dark ink on a transparent canvas (a drawing app export), 280–560 px',
    options: (r) => {
      const scale = between(r, 10, 20);
      return { transparent: true, colour: { r: 0, g: 0, b: 0 }, scale, stroke: between(r, 0.06, 0.1), format: 'png' };
    },
  },
  {
    name: 'screen-white-on-black',
    description: 'white on black, upscaled 10×, WebP (a screenshot)',
    options: () => ({ scale: 10, format: 'webp', quality: 80 }),
  },
  {
    name: 'phone-everything',
    description: 'blue pen, rotation, EXIF 6, gradient, noise, JPEG 60',
    options: (r) =>
      paperPhoto(r, {
        colour: { r: 35, g: 60, b: 180 },
        rotate: sign(r) * between(r, 3, 8),
        orientation: 6,
        quality: 60,
        gradient: between(r, 0.3, 0.5),
      }),
  },
];

/** Deterministic per digit and variant. */
export function renderPhotoVariant(digit: Digit, variant: PhotoVariant, seed: number): Promise<Buffer> {
  const random = seededRandom(seed * 7919 + variant.name.length * 104729 + variant.name.charCodeAt(0));
  return encodeDigit(digit.pixels, { ...variant.options(random), seed });
}

/** Classifies n MNIST-form images (n × 784): the predicted digit and, where known, the served `reliable`. */
export type Classify = (x: Float32Array, n: number) => Promise<{ digit: number; reliable?: boolean }[]>;

export interface VariantResult {
  variant: string;
  description: string;
  n: number;
  /** Accuracy through rendering + preprocessing. */
  accuracy: number;
  /** Accuracy of the same digits given as the clean 28×28 originals (no preprocessing). */
  clean: number;
  /** Share of digits whose prediction equals the prediction on the clean original. */
  agreement: number;
  /** Mean preprocessing time per image (ms), for orientation only. */
  msPerImage: number;
  /** Images the preprocessing found blank or refused. */
  lost: number;
  /** Share of the images answered `reliable: true` (when the classifier says). */
  reliableShare?: number;
  /** Accuracy among the reliable answers. */
  reliablePrecision?: number;
}

/** Renders each digit as each variant, preprocesses it, classifies it; compares with the clean originals. */
export async function evaluatePhotoVariants(
  classify: Classify,
  digits: Digit[],
  variants: PhotoVariant[] = PHOTO_VARIANTS,
  onProgress?: (r: VariantResult) => void,
): Promise<VariantResult[]> {
  const n = digits.length;
  const clean = new Float32Array(n * 784);
  digits.forEach((d, i) => clean.set(d.pixels, i * 784));
  const cleanPred = (await classify(clean, n)).map((p) => p.digit);
  const cleanCorrect = digits.filter((d, i) => cleanPred[i] === d.label).length;
  const results: VariantResult[] = [];
  for (const variant of variants) {
    const x = new Float32Array(n * 784);
    let ms = 0;
    let lost = 0;
    for (let i = 0; i < n; i++) {
      const bytes = await renderPhotoVariant(digits[i], variant, i);
      const t = performance.now();
      try {
        const r = await preprocessImage(bytes, { maxInputPixels: 40_000_000 });
        if (r.facts.inkFraction === 0) lost++;
        x.set(r.pixels, i * 784);
      } catch {
        lost++;
      }
      ms += performance.now() - t;
    }
    const answers = await classify(x, n);
    const pred = answers.map((p) => p.digit);
    const reliable = answers.map((a, i) => ({ ...a, right: a.digit === digits[i].label })).filter((a) => a.reliable === true);
    const knowsReliable = answers.every((a) => a.reliable !== undefined);
    const result: VariantResult = {
      variant: variant.name,
      description: variant.description,
      n,
      accuracy: digits.filter((d, i) => pred[i] === d.label).length / n,
      clean: cleanCorrect / n,
      agreement: digits.filter((_, i) => pred[i] === cleanPred[i]).length / n,
      msPerImage: ms / n,
      lost,
      ...(knowsReliable ? { reliableShare: reliable.length / n, reliablePrecision: reliable.length ? reliable.filter((a) => a.right).length / reliable.length : 1 } : {}),
    };
    results.push(result);
    onProgress?.(result);
  }
  return results;
}

/** The evaluation as a Markdown table. */
export function markdownTable(results: VariantResult[]): string {
  const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
  const rows = results.map(
    (r) =>
      `| ${r.variant} | ${r.description} | ${r.n} | ${pct(r.accuracy)} | ${pct(r.clean)} | ${(100 * (r.accuracy - r.clean)).toFixed(1)} pp | ${pct(r.agreement)} | ${r.reliableShare === undefined ? '—' : pct(r.reliableShare)} | ${r.reliablePrecision === undefined ? '—' : pct(r.reliablePrecision)} | ${r.lost} |`,
  );
  return [
    '| variant | what | n | accuracy | clean 28×28 | vs clean | same answer as clean | reliable | right when reliable | blank/refused |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
  ].join('\n');
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** The served engine over the model version in `dir`: MC dropout at the model's T, its confidence and threshold. */
async function modelClassifier(dir: string): Promise<{ classify: Classify; label: string }> {
  const { Engine } = await import('../../runtime/engine/engine.js');
  const engine = await Engine.load({ modelUri: path.resolve(dir), seed: 1 });
  const { metadata } = engine.info;
  const threshold = metadata.inference.reliabilityThreshold;
  const classify: Classify = async (x, n) => {
    const out: { digit: number; reliable: boolean }[] = [];
    for (let s = 0; s < n; s += 64) {
      const m = Math.min(64, n - s);
      for (const p of await engine.predict(x.subarray(s * 784, (s + m) * 784), m, metadata.inference.samples)) out.push({ digit: p.digit, reliable: p.confidence >= threshold });
    }
    return out;
  };
  return { classify, label: `${metadata.name}/${metadata.version} on ${engine.info.backend} at T=${metadata.inference.samples}, threshold ${threshold}` };
}

async function main(): Promise<void> {
  const perClass = Number(arg('per-class') ?? 30);
  const modelDir = arg('model') ?? (await newestVersion('models/mnist-cnn'))!.dir;
  const only = arg('variants')?.split(',');
  const variants = only ? PHOTO_VARIANTS.filter((v) => only.includes(v.name)) : PHOTO_VARIANTS;
  const digits = heldOutDigits(perClass);
  const samples = arg('samples');
  if (samples) {
    await mkdir(samples, { recursive: true });
    for (const v of variants) {
      const bytes = await renderPhotoVariant(digits[3], v, 3);
      const ext = v.options(seededRandom(1)).format ?? 'png';
      await writeFile(path.join(samples, `${v.name}.${ext === 'jpeg' ? 'jpg' : ext}`), bytes);
    }
  }
  const { classify, label } = await modelClassifier(modelDir);
  console.error(`model ${label}; ${digits.length} held-out digits (${perClass} per class)`);
  const results = await evaluatePhotoVariants(classify, digits, variants, (r) =>
    console.error(`${r.variant}: ${(100 * r.accuracy).toFixed(1)}% (clean ${(100 * r.clean).toFixed(1)}%), reliable ${(100 * (r.reliableShare ?? 0)).toFixed(1)}%, ${r.msPerImage.toFixed(1)} ms/image`),
  );
  console.log(markdownTable(results));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
