/** Shapes shared by the preprocessing steps. */

/** The image formats preprocessing accepts (sharp's decoder names; AVIF is sharp's `heif` with AV1). */
export type AcceptedFormat = 'png' | 'jpeg' | 'webp' | 'gif' | 'tiff' | 'avif';

export interface PreprocessLimits {
  /** Largest decoded frame (width × height) accepted; checked from the header before decoding. */
  maxInputPixels: number;
}

/** What preprocessing saw on the way: cheap evidence the confidence may use later. */
export interface PreprocessFacts {
  /** Size of the image as sent, after EXIF orientation. */
  width: number;
  height: number;
  format: AcceptedFormat;
  /** True when the background was brighter than the ink (ink on paper) and was inverted. */
  inverted: boolean;
  /** Share of the working image covered by ink (normalised ink ≥ 0.5); 0 for a blank page. */
  inkFraction: number;
  /** Ink-to-background contrast before normalisation, 0..1 (0: nothing stands out). */
  contrast: number;
  /** Connected ink strokes kept as the digit (after dropping specks). */
  components: number;
  /** Ink blobs seen in all, specks included: many of them suggests texture rather than a digit. */
  blobs: number;
  /** Stroke width relative to the digit's longer side, before normalisation (MNIST median ≈ 0.14). */
  strokeWidth: number;
  /** True when the image had an alpha channel that was flattened. */
  hadAlpha: boolean;
}

export interface PreprocessResult {
  /** 784 values, 28×28 row-major, 0..1, the digit bright on dark as in MNIST. */
  pixels: Float32Array;
  facts: PreprocessFacts;
}

/** An RGB image with float channels 0..1 in separate planes, the working form of the JS steps. */
export interface Planes {
  width: number;
  height: number;
  /** 1 (grey) or 3 (R, G, B) planes, each width × height. */
  planes: Float32Array[];
  /**
   * The interleaved 8-bit samples the planes hold exactly, when nothing (alpha compositing)
   * changed them: plane c's pixel i is `data[i · channels + c] / 255` as float32. Steps that only
   * bin the values read these instead (one pass over all planes, a table per byte).
   */
  samples?: { data: Uint8Array; channels: number };
}

/** A single-channel float image (ink map, luminance). */
export interface Gray {
  width: number;
  height: number;
  data: Float32Array;
}
