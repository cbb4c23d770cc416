import { keepDigitStrokes } from './components.js';
import { crop, inkBox } from './crop.js';
import { FIELD, placeByCentreOfMass, stretchToUnit } from './centre-of-mass.js';
import { decodeImage, type DecodedImage } from './decode.js';
import { flattenAlpha } from './flatten-alpha.js';
import { inkSignal } from './ink-signal.js';
import { estimateBackground } from './lighting.js';
import { isMnistForm } from './mnist-form.js';
import { normaliseContrast } from './normalise-contrast.js';
import { detectPolarityOfPlanes } from './polarity.js';
import { fitLongerSide } from './resample.js';
import { normaliseStrokeWidth, relativeStrokeWidth } from './stroke-width.js';
import type { PreprocessFacts, PreprocessLimits, PreprocessResult } from './types.js';

/** MNIST fits each digit's longer side into 20 px of its 28 × 28 field. */
const DIGIT_BOX = 20;
/** Ink level that defines the digit's box. */
const BOX_LEVEL = 0.1;

/**
 * Image bytes (PNG, JPEG, WebP, GIF, TIFF, AVIF) → the digit in MNIST form. Throws a
 * RuntimeError (`invalid_image`, `unsupported_media_type`, `image_too_large`) for bytes it
 * refuses; a page with no ink is not an error but comes back all zero with `inkFraction: 0`.
 */
export async function preprocessImage(bytes: Buffer, limits: PreprocessLimits): Promise<PreprocessResult> {
  return toMnistForm(await decodeImage(bytes, limits));
}

/** The pure half of the pipeline: a decoded working raster → MNIST form and facts. */
export function toMnistForm(decoded: DecodedImage): PreprocessResult {
  const { planes, hadAlpha } = flattenAlpha(decoded);
  const polarity = detectPolarityOfPlanes(planes);
  const background = estimateBackground(planes, polarity.brightBackground);
  const signal = inkSignal(planes, background, polarity.brightBackground);
  const normalised = normaliseContrast(signal);

  const facts: PreprocessFacts = {
    width: decoded.width,
    height: decoded.height,
    format: decoded.format,
    inverted: polarity.brightBackground,
    inkFraction: 0,
    contrast: round(normalised.contrast),
    components: 0,
    blobs: 0,
    strokeWidth: 0,
    hadAlpha,
  };
  const blank = { pixels: new Float32Array(FIELD * FIELD), facts };
  if (normalised.blank) return blank;

  const strokes = keepDigitStrokes(normalised.ink);
  facts.components = strokes.components;
  facts.blobs = strokes.blobs;
  facts.inkFraction = round(inkShare(strokes.ink.data));
  // the box is drawn around the strokes, not their faintest fringe: JPEG ringing and blur would
  // otherwise widen it on small images
  const box = inkBox(strokes.ink, BOX_LEVEL);
  if (!box) return blank;
  const digit = crop(strokes.ink, box);
  facts.strokeWidth = round(relativeStrokeWidth(digit));

  if (!polarity.brightBackground && isMnistForm(normalised.ink)) {
    return { pixels: stretchToUnit(Float32Array.from(normalised.ink.data)), facts };
  }
  const even = normaliseStrokeWidth(digit, facts.strokeWidth);
  const small = fitLongerSide(even, DIGIT_BOX);
  return { pixels: stretchToUnit(placeByCentreOfMass(small)), facts };
}

function inkShare(data: Float32Array): number {
  let ink = 0;
  for (let i = 0; i < data.length; i++) if (data[i] >= 0.5) ink++;
  return ink / data.length;
}

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}
