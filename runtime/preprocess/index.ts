/** Preprocessing: image bytes of any accepted format, size and polarity → a 28 × 28 MNIST-form digit. */
export { preprocessImage, toMnistForm } from './preprocess-image.js';
export { decodeImage, WORKING_SIZE } from './decode.js';
export { sniffFormat, acceptedFormatList } from './sniff-format.js';
export type { AcceptedFormat, PreprocessFacts, PreprocessLimits, PreprocessResult } from './types.js';
