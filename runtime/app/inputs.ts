import { RuntimeError } from '../errors.js';
import type { AcceptedFormat } from '../preprocess/index.js';

/**
 * What a protocol edge (HTTP today, gRPC tomorrow) hands the application layer: one image of a
 * request, as sent — encoded bytes, or pixels already in MNIST form.
 */
export type ImageInput =
  | { kind: 'bytes'; bytes: Buffer; label: string; declared?: AcceptedFormat }
  | { kind: 'pixels'; pixels: Float32Array; label: string };

export const PIXELS = 784;

/**
 * The one check of pixels sent as numbers (28×28 values in 0..1), at the application layer's
 * boundary, before they share a batch with other requests' images. Nothing deeper checks them
 * again: preprocessing produces valid pixels by construction.
 */
export function checkPixels(pixels: Float32Array, label: string): void {
  if (pixels.length !== PIXELS) throw new RuntimeError('invalid_tensor', `${label}: expected 28×28 = 784 values, got ${pixels.length}`);
  for (let i = 0; i < pixels.length; i++) {
    const v = pixels[i];
    if (!(v >= 0 && v <= 1)) {
      throw new RuntimeError('invalid_tensor', `${label}: pixel (${Math.floor(i / 28)}, ${i % 28}) is ${v}; values must be numbers in 0..1 (MNIST form, bright digit on dark)`);
    }
  }
}
