import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { confidenceFromValues, linearScore, sigmoid } from '../../../../runtime/engine/confidence.js';
import { parseMetadata, type CalibrationFeature } from '../../../../runtime/model/metadata.js';
import { predictResponseSchema } from '../../../../runtime/server/schemas/v1.js';
import { encodeDigit, mnistDigit } from '../../../support/images.js';
import { defaultModelVersion } from '../../../support/model-fixture.js';
import { repoRoot } from '../../../support/runtime-process.js';
import { startTestRuntime, type TestRuntime } from './support/in-process.js';

// The default model (the newest version, what `npm start` serves) over real HTTP with real PNGs:
// its confidence is the two-stage mapping of model/metadata.ts, computed from the very figures
// the answer reports.
const dir = path.join(repoRoot, 'models', 'mnist-cnn', defaultModelVersion());
let t: TestRuntime;
beforeAll(async () => {
  t = await startTestRuntime({ MODEL_URI: dir });
}, 180_000);
afterAll(() => t?.stop());

type Uncertainty = Record<string, number | string>;
/** A mapping feature's value from a served answer's `uncertainty` (the scaled MC figures when the mapping reads them). */
function served(u: Uncertainty, f: CalibrationFeature): number {
  const num = (k: string): number => {
    expect(typeof u[k]).toBe('number');
    return u[k] as number;
  };
  const scaled = (k: string, plain: string): number => (u[k] !== undefined ? num(k) : num(plain));
  switch (f) {
    case 'maxProbability':
      return scaled('scaledMaxProbability', 'probability');
    case 'predictiveEntropy':
      return scaled('scaledPredictiveEntropy', 'predictiveEntropy');
    case 'mutualInformation':
      return scaled('scaledMutualInformation', 'mutualInformation');
    case 'logFeatureDistance':
      return Math.log(1e-6 + num('featureDistance'));
    default:
      return num(f);
  }
}

it('answers with P(digit) · P(right | digit): the confidence follows from the reported figures and the metadata', async () => {
  const meta = parseMetadata(JSON.parse(await readFile(path.join(dir, 'metadata.json'), 'utf8')));
  const cal = meta.calibration!;
  expect(cal.method).toBe('logistic-two-stage');
  const listed = (await (await fetch(`${t.base}/v1/models/mnist-cnn`)).json()) as { calibration: Record<string, unknown> };
  expect(listed.calibration).toMatchObject({ method: 'logistic-two-stage', assumedNonDigitShare: cal.digit!.assumedNonDigitShare });

  const form = new FormData();
  const labels: number[] = [];
  for (let i = 0; i < 12; i++) {
    const d = mnistDigit(i);
    labels.push(d.label);
    form.append('f', new Blob([await encodeDigit(d.pixels, { format: 'png', invert: true, scale: 4 })]), `${i}.png`);
  }
  form.append('f', new Blob([await encodeDigit(new Float32Array(784), { format: 'png', scale: 4 })]), 'blank.png');
  const res = await fetch(`${t.base}/v1/models/mnist-cnn:predict`, { method: 'POST', body: form });
  expect(res.status).toBe(200);
  const body = predictResponseSchema.parse(await res.json());
  for (const p of body.predictions) {
    const u = { ...p.uncertainty, probability: p.probability } as Uncertainty;
    const values = cal.features.map((f) => served(u, f));
    expect(p.confidence).toBeCloseTo(confidenceFromValues(cal, values), 5);
    // and the digit stage bounds it: P(right) ≤ P(digit)
    expect(p.confidence).toBeLessThanOrEqual(sigmoid(linearScore(cal.digit!, values) + cal.digit!.priorShift) + 1e-6);
  }
  const digits = body.predictions.slice(0, -1);
  expect(digits.map((p) => p.digit)).toEqual(labels);
  expect(digits.filter((p) => p.reliable).length).toBeGreaterThanOrEqual(10);
  expect(body.predictions.at(-1)!.reliable).toBe(false); // a blank page is no digit
});
