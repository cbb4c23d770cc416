import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { encodeDigit, mnistDigit } from '../support/images.js';
import { defaultModelVersion } from '../support/model-fixture.js';
import { RuntimeProcess, repoRoot } from '../support/runtime-process.js';

/**
 * A client nobody on this project wrote: Triton's `tritonclient` (PyPI, pinned in
 * hack/python/requirements-clients.txt, in the Python environment hack/python/venv.sh makes),
 * over HTTP — its default binary tensor data extension and plain JSON — and over gRPC, against a
 * real runtime process with real encoded digits. test/clients/tritonclient_calls.py only calls
 * and records; the expectations are here.
 */

const run = promisify(execFile);

interface Tensor {
  shape: number[];
  dtype: string;
  values: unknown[];
}
interface Answer {
  outputs: Record<string, Tensor | null>;
  binaryOutputs?: string[];
  id?: string;
}
interface ErrorSeen {
  status: string;
  message: string;
}
interface Session {
  live: boolean;
  ready: boolean;
  modelReady: boolean;
  serverMetadata: { name: string; version: string };
  modelMetadata: { name: string; versions: string[]; inputs: { name: string; datatype: string; shape: (number | string)[] }[]; outputs: { name: string }[] };
  images: Answer;
  pixels: Answer;
  imagesJson?: Answer;
  pixelsJson?: Answer;
  mixed?: Answer;
  selected?: Answer;
  errors: Record<'badShape' | 'notImage' | 'truncatedPng' | 'wrongDatatype' | 'unknownModel', ErrorSeen>;
  readyAfterErrors: boolean;
}

const EXAMPLES = [
  ['digit.png', 7],
  ['one.png', 1],
  ['two.png', 2],
] as const;
const MNIST = [7, 2, 4, 11, 13];

let runtime: RuntimeProcess;
let dir: string;
let report: { http: Session; grpc: Session };
const imageDigits = [...EXAMPLES.map(([, d]) => d), ...MNIST.map((i) => mnistDigit(i).label)];
const pixelDigits = MNIST.map((i) => mnistDigit(i).label);

beforeAll(async () => {
  const [{ stdout: venv }, rp, tmp] = await Promise.all([
    run('bash', [path.join(repoRoot, 'hack/python/venv.sh'), path.join(repoRoot, 'hack/python/requirements-clients.txt')], { cwd: repoRoot }),
    RuntimeProcess.start({ readyTimeoutMs: 300_000 }), // the default model at its calibrated T = 30, as `npm start` serves it
    mkdtemp(path.join(os.tmpdir(), 'digitserve-tritonclient-')),
  ]);
  runtime = rp;
  dir = tmp;
  const images = EXAMPLES.map(([f]) => path.join(repoRoot, 'docs/examples', f));
  for (const i of MNIST) {
    const file = path.join(dir, `mnist-${i}.png`);
    await writeFile(file, await encodeDigit(mnistDigit(i).pixels, { format: 'png', invert: true, scale: 4 }));
    images.push(file);
  }
  const pixels = new Float32Array(MNIST.length * 784);
  MNIST.forEach((i, k) => pixels.set(mnistDigit(i).pixels, k * 784));
  await writeFile(path.join(dir, 'pixels.f32'), Buffer.from(pixels.buffer)); // little-endian on x86 and arm64
  const cases = { http: `127.0.0.1:${runtime.port}`, grpc: `127.0.0.1:${runtime.grpcPort}`, model: 'mnist-cnn', images, pixels: path.join(dir, 'pixels.f32'), pixelCount: MNIST.length };
  await writeFile(path.join(dir, 'cases.json'), JSON.stringify(cases));
  const py = await run(path.join(venv.trim(), 'bin', 'python'), [path.join(repoRoot, 'test/clients/tritonclient_calls.py'), path.join(dir, 'cases.json')], { maxBuffer: 64 << 20 }).catch((e: Error & { stderr?: string }) => {
    throw new Error(`tritonclient_calls.py failed: ${e.message}\n${e.stderr ?? ''}\nruntime log:\n${runtime.tail()}`);
  });
  report = JSON.parse(py.stdout) as typeof report;
}, 600_000);

afterAll(async () => {
  await runtime?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

/** Every output of the model present, with n answers, and the digits right. */
function expectAnswers(a: Answer, digits: number[]): void {
  const n = digits.length;
  const o = a.outputs;
  expect(o.digit).toMatchObject({ shape: [n], dtype: 'int32' });
  expect(o.digit!.values).toEqual(digits);
  expect(o.probabilities).toMatchObject({ shape: [n, 10], dtype: 'float32' });
  const probs = o.probabilities!.values as number[][];
  probs.forEach((row, i) => {
    expect(row.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 3);
    expect(row.indexOf(Math.max(...row))).toBe(digits[i]);
  });
  expect(o.reliable).toMatchObject({ shape: [n], dtype: 'bool' });
  for (const name of ['confidence', 'predictive_entropy', 'mutual_information']) {
    expect(o[name]).toMatchObject({ shape: [n], dtype: 'float32' });
    for (const v of o[name]!.values as number[]) expect(Number.isFinite(v) && v >= 0).toBe(true);
  }
  for (const v of o.confidence!.values as number[]) expect(v).toBeLessThanOrEqual(1);
}

describe.each(['http', 'grpc'] as const)('tritonclient over %s', (protocol) => {
  const s = () => report[protocol];

  it('sees the server live and ready, and the model ready', () => {
    expect(s()).toMatchObject({ live: true, ready: true, modelReady: true });
  });

  it('reads server and model metadata: inputs image (BYTES) and pixels (FP32), the six outputs', () => {
    expect(s().serverMetadata).toMatchObject({ name: 'digitserve', version: expect.any(String) });
    const m = s().modelMetadata;
    expect(m.name).toBe('mnist-cnn');
    expect(m.versions).toEqual([defaultModelVersion()]);
    // gRPC's JSON form writes int64 as strings
    expect(m.inputs.map((i) => [i.name, i.datatype, i.shape.map(Number)])).toEqual([
      ['image', 'BYTES', [-1]],
      ['pixels', 'FP32', [-1, 28, 28, 1]],
    ]);
    expect(m.outputs.map((o) => o.name)).toEqual(['probabilities', 'digit', 'confidence', 'reliable', 'predictive_entropy', 'mutual_information']);
  });

  it('infers real PNG digits sent as BYTES with the defaults, with every uncertainty output', () => {
    expectAnswers(s().images, imageDigits);
    expect(s().images.id).toBe('imgs-1');
  });

  it('infers FP32 pixels already in MNIST form', () => {
    expectAnswers(s().pixels, pixelDigits);
  });

  it('refuses a bad tensor, a non-image, a broken PNG and a wrong datatype as invalid, an unknown model as not found, and stays ready', () => {
    const e = s().errors;
    if (protocol === 'http') {
      expect(e.badShape.status).toBe('422');
      expect(e.notImage.status).toBe('415');
      expect(e.truncatedPng.status).toBe('400');
      expect(e.wrongDatatype.status).toBe('422');
      expect(e.unknownModel.status).toBe('404');
    } else {
      expect(e.badShape.status).toBe('StatusCode.INVALID_ARGUMENT');
      expect(e.notImage.status).toBe('StatusCode.INVALID_ARGUMENT');
      expect(e.truncatedPng.status).toBe('StatusCode.INVALID_ARGUMENT');
      expect(e.wrongDatatype.status).toBe('StatusCode.INVALID_ARGUMENT');
      expect(e.unknownModel.status).toBe('StatusCode.NOT_FOUND');
    }
    expect(e.badShape.message).toMatch(/shape \[1,784\].*\[n, 28, 28, 1\]/);
    expect(e.wrongDatatype.message).toMatch(/must be BYTES/);
    expect(e.notImage.message).toMatch(/PNG|JPEG|format/i);
    expect(e.unknownModel.message).toMatch(/"no-such-model" is not served here/);
    expect(s().readyAfterErrors).toBe(true);
  });
});

describe('tritonclient.http binary tensor data extension', () => {
  it('answers the default call (binary inputs, binary_data_output) with every output as binary data', () => {
    expect(report.http.images.binaryOutputs).toEqual(['probabilities', 'digit', 'confidence', 'reliable', 'predictive_entropy', 'mutual_information']);
  });

  it('answers binary_data=False inputs and outputs in JSON, the same digits', () => {
    expect(report.http.imagesJson!.binaryOutputs).toEqual([]);
    expectAnswers(report.http.imagesJson!, imageDigits);
    expectAnswers(report.http.pixelsJson!, pixelDigits);
  });

  it('mixes binary and JSON outputs as each output asks', () => {
    const m = report.http.mixed!;
    expect(m.binaryOutputs).toEqual(['digit']);
    expect(m.outputs.digit!.values).toEqual(pixelDigits);
    expect(m.outputs.reliable).toMatchObject({ shape: [pixelDigits.length], dtype: 'bool' });
    expect(m.outputs.probabilities).toBeNull();
  });
});

describe('tritonclient.grpc', () => {
  it('returns only the outputs asked for', () => {
    const a = report.grpc.selected!;
    expect(a.outputs.digit!.values).toEqual(pixelDigits);
    expect(a.outputs.probabilities).toBeNull();
  });
});
