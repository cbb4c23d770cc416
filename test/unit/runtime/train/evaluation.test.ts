import { readFile } from 'node:fs/promises';
import { Engine } from '../../../../runtime/engine/engine.js';
import { loadIdxSet, mnistDataDir, pick } from '../../../../runtime/train/datasets.js';
import { ABLATION, coverageAt, digitFigures, fitAblation, scoreSet, type Scored } from '../../../../runtime/train/evaluation.js';
import { ablationTable, headlineTable } from '../../../../runtime/train/evaluation-report.js';
import { throughPreprocessing } from '../../../../runtime/train/through-preprocessing.js';
import { DEFAULT_MODEL_VERSION_DIR } from '../../../support/model-fixture.js';
import path from 'node:path';

let engine: Engine;
let rows: Scored[];
let labels: Int32Array;

beforeAll(async () => {
  engine = await Engine.load({ modelUri: DEFAULT_MODEL_VERSION_DIR, backend: 'wasm', seed: 1 });
  const dir = mnistDataDir();
  const t10k = await loadIdxSet(path.join(dir, 't10k-images-idx3-ubyte'), path.join(dir, 't10k-labels-idx1-ubyte'));
  const set = (await throughPreprocessing(pick(t10k, Array.from({ length: 40 }, (_, i) => i * 97)))).set;
  labels = set.y;
  // a chunk smaller than the set: the figures must not depend on the chunking
  rows = await scoreSet(engine, set, engine.info.metadata.inference.samples, 16);
}, 240_000);

afterAll(() => engine.dispose());

describe('scoreSet (the default model as served)', () => {
  it('scores real t10k digits through the engine at T, at T = 1 and without dropout', () => {
    expect(rows).toHaveLength(40);
    const right = rows.filter((r, i) => r.digit === labels[i]).length;
    expect(right).toBeGreaterThanOrEqual(37);
    for (const r of rows) {
      expect(r.pTrue).toBeGreaterThanOrEqual(0);
      expect(r.mc.maxProbability).toBeGreaterThan(0.1);
      expect(r.mc1.mutualInformation).toBe(0);
      expect(r.det.maxProbability).toBeGreaterThan(0.1);
      expect(r.det.maxProbability).toBeLessThanOrEqual(1);
      expect(r.evidence.featureDistance).toBeGreaterThan(0);
      expect(r.evidence.edgeDensity).toBeGreaterThan(0);
    }
  });

  it('summarises the served answers: accuracy, calibration and the reliable figures', () => {
    const f = digitFigures(rows, labels);
    expect(f.images).toBe(40);
    expect(f.accuracy).toBeGreaterThanOrEqual(0.925);
    expect(f.reliableCoverage).toBeGreaterThan(0.5);
    expect(f.reliablePrecision).toBeGreaterThanOrEqual(f.accuracy);
    expect(f.ece).toBeGreaterThanOrEqual(0);
    expect(f.nll).toBeGreaterThan(0);
  });

  it('fits every ablation mapping to a probability on each row', () => {
    // "wrong" rows: the same digits with a label they were not given, so both classes exist
    const right = rows.map((_, i) => i % 4 !== 0);
    // and every 8th row stands for a non-digit (never a right answer), so the two stages are fitted
    const isDigit = rows.map((_, i) => i % 8 !== 0);
    for (const key of Object.keys(ABLATION) as (keyof typeof ABLATION)[]) {
      for (const oneStage of [false, true]) {
        const conf = fitAblation(key, rows, right, isDigit, undefined, oneStage);
        for (const r of rows) {
          expect(conf(r)).toBeGreaterThanOrEqual(0);
          expect(conf(r)).toBeLessThanOrEqual(1);
        }
      }
    }
  });
});

describe('coverageAt', () => {
  it('is the largest share of the answers above a threshold with the precision asked for', () => {
    expect(coverageAt([0.9, 0.8, 0.7, 0.6], [true, true, false, true], 0.99)).toBe(0.5);
    expect(coverageAt([0.9, 0.8, 0.7, 0.6], [true, true, false, true], 0.7)).toBe(1);
    expect(coverageAt([0.9], [false], 0.99)).toBe(0);
  });
});

describe('the evaluation tables', () => {
  it('render every set, shift, non-digit set and ablation row of the committed evaluation', async () => {
    const ev = JSON.parse(await readFile(path.join(DEFAULT_MODEL_VERSION_DIR, 'evaluation.json'), 'utf8')) as { shifts: object; ood: object };
    const head = headlineTable(ev);
    for (const s of ['validation', 't10k', ...Object.keys(ev.shifts).map((k) => `t10k ${k}`), ...Object.keys(ev.ood)]) expect(head).toContain(`| ${s}`);
    const ab = ablationTable(ev);
    for (const k of Object.keys(ABLATION)) expect(ab).toContain(`| (${k})`);
  });
});
