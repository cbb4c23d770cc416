import { encodeDigit, mnistDigit } from '../../support/images.js';

export interface DigitAnswer {
  label: number;
  status: number;
  /** The first prediction of a 200 answer. */
  prediction?: { digit: number; uncertainty: { method: string; samples?: number } };
}

/**
 * Sends the first `count` MNIST test digits, each as a 4×-scaled dark-on-light PNG, one request at a
 * time to the `mnist-cnn` model of the runtime at `base`; returns each answer beside its label.
 */
export async function askDigits(base: string, count: number): Promise<DigitAnswer[]> {
  const answers: DigitAnswer[] = [];
  for (let i = 0; i < count; i++) {
    const digit = mnistDigit(i);
    const png = await encodeDigit(digit.pixels, { format: 'png', invert: true, scale: 4 });
    const res = await fetch(`${base}/v1/models/mnist-cnn:predict`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: png });
    const prediction = res.status === 200 ? ((await res.json()) as { predictions: DigitAnswer['prediction'][] }).predictions[0] : undefined;
    answers.push({ label: digit.label, status: res.status, prediction });
  }
  return answers;
}

/** How many answers name their digit's label. */
export const rightAnswers = (answers: DigitAnswer[]): number => answers.filter((a) => a.prediction?.digit === a.label).length;
