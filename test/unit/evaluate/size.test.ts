import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { FULL_SIZE, QUICK_SIZE, drawsFor, sizeFromOptions, sizeMode } from '../../../hack/evaluate/size.js';
import { ablationTable, evaluationTables, headlineTable } from '../../../runtime/train/evaluation-report.js';
import { DEFAULT_MODEL_VERSION_DIR } from '../../support/model-fixture.js';

describe('the evaluation size (npm run evaluate, calibrate and import)', () => {
  it('is the full size without options, the quick size with --quick, and custom when one size is set', () => {
    expect(sizeFromOptions({})).toEqual(FULL_SIZE);
    expect(sizeMode(sizeFromOptions({}))).toBe('full');
    expect(sizeFromOptions({ quick: true })).toEqual(QUICK_SIZE);
    expect(sizeMode(sizeFromOptions({ quick: true }))).toBe('quick');
    expect(sizeFromOptions({ quick: true, 'shift-images': '20' })).toMatchObject({ ...QUICK_SIZE, shiftDigits: 20 });
    expect(sizeMode(sizeFromOptions({ quick: true, 'shift-images': '20' }))).toBe('custom');
    expect(sizeMode(sizeFromOptions({ samples: '30' }))).toBe('custom');
  });

  it('draws the model T capped by the size, T exactly with --samples, and 1 without MC dropout', () => {
    expect(drawsFor(FULL_SIZE, 30, true)).toBe(30);
    expect(drawsFor(QUICK_SIZE, 30, true)).toBe(10);
    expect(drawsFor(QUICK_SIZE, 5, true)).toBe(5);
    expect(drawsFor(sizeFromOptions({ samples: '50' }), 30, true)).toBe(50);
    expect(drawsFor(FULL_SIZE, 30, false)).toBe(1);
  });

  it('refuses a size that is not a count', () => {
    expect(() => sizeFromOptions({ samples: '0' })).toThrow('--samples must be an integer ≥ 1, got 0');
    expect(() => sizeFromOptions({ 'clean-digits': 'many' })).toThrow('--clean-digits must be an integer ≥ 20, got many');
    expect(() => sizeFromOptions({ 'photo-per-class': '-1' })).toThrow(/--photo-per-class must be an integer ≥ 0/);
  });
});

describe('the tables of an evaluation that is not the full one, or of a model without MC dropout', () => {
  const load = async (): Promise<Record<string, unknown> & { ablation: Record<string, unknown>; ood: Record<string, Record<string, unknown>>; size?: unknown }> =>
    JSON.parse(await readFile(path.join(DEFAULT_MODEL_VERSION_DIR, 'evaluation.json'), 'utf8')) as never;

  it('the full (or unrecorded) size prints no banner; a quick one says it is not the full one', async () => {
    const ev = await load();
    expect(headlineTable(ev)).toMatch(/^\| digits \|/);
    expect(headlineTable({ ...ev, size: { mode: 'full' } })).toMatch(/^\| digits \|/);
    const quick = headlineTable({ ...ev, size: { mode: 'quick', validationDigits: 500, t10kDigits: 500, shiftDigitsPerVariant: 50, photoDigitsPerVariant: 10 } });
    expect(quick).toMatch(/^\*\*Quick evaluation, not the full one\*\*: 500 validation and 500 t10k digits, 50 per shift variant, 10 per photo variant/);
  });

  it('prints a figure that does not exist (null in evaluation.json) as — and a not-applicable ablation row as such', async () => {
    const ev = await load();
    ev.ood.noise.aurocMutualInformation = null;
    ev.ablation.a = { label: 'all evidence, T = 30', notApplicable: 'not applicable (uncertainty method none)' };
    expect(headlineTable(ev)).toMatch(/\| noise \| \d+ \| [\d.]+ \| [\d.]+ \| — \|/);
    const ab = ablationTable(ev);
    expect(ab).toMatch(/^\| \(a\) all evidence, T = 30 \| not applicable \(uncertainty method none\) \| — \|/m);
    expect(ab).toMatch(/^\| \(c\) without MC features \(one dropout-free pass\) \| 0\.\d{4} \|/m);
    expect(evaluationTables({ ...ev, uncertainty: 'none' })).toMatch(/^mnist-cnn\/\d+, \w+, uncertainty none, T = /);
  });
});
