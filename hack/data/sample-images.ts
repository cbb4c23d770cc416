/**
 * The sample images the README's commands send (docs/examples/): real held-out MNIST digits
 * drawn the way a user would have them (a scan-like PNG, a phone-photo-like JPEG) and one
 * picture that is no digit (a Fashion-MNIST t10k sneaker photographed on paper).
 *
 *   npx tsx hack/data/sample-images.ts [--out docs/examples]
 *
 * Deterministic: the same files on every run, so the committed ones can be checked against it.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { loadFashion } from '../../runtime/train/datasets.js';
import { heldOutDigit } from './mnist-digits.js';
import { PHOTO_VARIANTS, renderPhotoVariant } from './photo-variants.js';
import { encodeDigit } from './render-digit.js';

export interface SampleImage {
  file: string;
  /** The digit it shows, or undefined for the non-digit. */
  label?: number;
  render(): Promise<Buffer>;
}

/** A held-out digit of class `label` (the k-th of that class). */
const digit = (label: number, k = 0) => heldOutDigit(label + 10 * k);

/** Dark ink on white paper at 4× MNIST size, as a scanner or a canvas export gives it. */
const scan = (label: number, k = 0) => () => encodeDigit(digit(label, k).pixels, { format: 'png', invert: true, scale: 4 });

const paperPhoto = PHOTO_VARIANTS.find((v) => v.name === 'paper-photo');

export const SAMPLE_IMAGES: SampleImage[] = [
  { file: 'digit.png', label: 7, render: scan(7, 2) },
  { file: 'one.png', label: 1, render: scan(1, 3) },
  { file: 'two.png', label: 2, render: scan(2) },
  {
    file: 'photo.jpg',
    label: 3,
    render: () => {
      if (!paperPhoto) throw new Error('photo variant "paper-photo" is missing');
      return renderPhotoVariant(digit(3, 4), paperPhoto, 11);
    },
  },
  {
    file: 'not-a-digit.jpg',
    render: async () => {
      const fashion = await loadFashion('t10k', 1);
      if (!fashion) throw new Error('Fashion-MNIST is missing: apt-get install dataset-fashion-mnist');
      // t10k item 0 is an ankle boot; drawn like the digit photo: dark on off-white paper, JPEG
      return encodeDigit(fashion.x.subarray(0, 784), {
        format: 'jpeg', quality: 85, invert: true, scale: 16,
        canvas: { width: 640, height: 560 }, offset: { x: 96, y: 56 },
        paper: { r: 236, g: 232, b: 222 }, colour: { r: 30, g: 30, b: 34 }, gradient: 0.25, noise: 0.02,
      });
    },
  },
];

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: 'string', default: 'docs/examples' } } });
  const out = path.resolve(values.out ?? 'docs/examples');
  await mkdir(out, { recursive: true });
  for (const sample of SAMPLE_IMAGES) {
    const bytes = await sample.render();
    await writeFile(path.join(out, sample.file), bytes);
    process.stdout.write(`${path.join(out, sample.file)}: ${bytes.length} bytes${sample.label === undefined ? '' : `, digit ${sample.label}`}\n`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
