import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { createRequire } from 'node:module';
import sharp from 'sharp';
import { modelCalibratedAt } from '../../../support/model-fixture.js';

// The runtime as a user runs it: `tsx runtime/main.ts` on free ports, real HTTP, real PNGs.
const root = path.resolve(import.meta.dirname, '..', '..', '..', '..');
let child: ChildProcess;
let base = '';
let output = '';
const mnist = createRequire(import.meta.url)('mnist') as { get(i: number): number[] }[];

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });

async function digitPng(digit: number, index: number, size = 280): Promise<Buffer> {
  const pixels = mnist[digit].get(index);
  // dark ink on white paper, 10× larger than MNIST: the preprocessing must undo all of it
  const paper = Buffer.from(pixels.map((v) => 255 - Math.round(v * 255)));
  return sharp(paper, { raw: { width: 28, height: 28, channels: 1 } }).resize(size, size).png().toBuffer();
}

beforeAll(async () => {
  const [port, metricsPort] = [await freePort(), await freePort()];
  base = `http://127.0.0.1:${port}`;
  child = spawn(process.execPath, ['--import', 'tsx', 'runtime/main.ts'], {
    cwd: root,
    env: { ...process.env, NODE_OPTIONS: '', PORT: String(port), METRICS_PORT: String(metricsPort), GRPC_PORT: '0', MODEL_URI: modelCalibratedAt(10), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const deadline = Date.now() + 90_000;
  for (;;) {
    const ok = await fetch(`${base}/readyz`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`runtime did not become ready:\n${output}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}, 120_000);

afterAll(async () => {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
});

it('classifies a dark-on-light photo-sized PNG sent as multipart, with the SPEC response shape', async () => {
  const form = new FormData();
  form.append('image', new Blob([await digitPng(7, 700)], { type: 'image/png' }), 'seven.png');
  const res = await fetch(`${base}/v1/models/mnist-cnn:predict`, { method: 'POST', body: form });
  expect(res.status).toBe(200);
  expect(res.headers.get('x-model-version')).toBe('1');
  expect(res.headers.get('x-model-track')).toBe('stable');
  const body = (await res.json()) as { model: Record<string, string>; predictions: Record<string, unknown>[] };
  expect(body.model).toEqual({ name: 'mnist-cnn', storeName: 'mnist-cnn', version: '1', track: 'stable' });
  const [p] = body.predictions;
  expect(p.digit).toBe(7);
  expect(p.probabilities).toHaveLength(10);
  expect(typeof p.confidence).toBe('number');
  const meta = (await (await fetch(`${base}/v1/models/mnist-cnn`)).json()) as { reliabilityThreshold: number };
  expect(p.reliable).toBe((p.confidence as number) >= meta.reliabilityThreshold);
  expect(p.uncertainty).toMatchObject({ method: 'mc-dropout', samples: 10 });
});

it('answers a multipart batch and JSON instances in request order', async () => {
  const form = new FormData();
  form.append('a', new Blob([await digitPng(3, 800)], { type: 'image/png' }), 'a.png');
  form.append('b', new Blob([await digitPng(0, 900)], { type: 'image/png' }), 'b.png');
  const batch = (await (await fetch(`${base}/v1/models/mnist-cnn:predict`, { method: 'POST', body: form })).json()) as { predictions: { digit: number }[] };
  expect(batch.predictions.map((p) => p.digit)).toEqual([3, 0]);

  const b64 = (await digitPng(1, 900)).toString('base64');
  const res = await fetch(`${base}/v1/models/mnist-cnn:predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: [{ b64 }] }) });
  expect(((await res.json()) as { predictions: { digit: number }[] }).predictions[0].digit).toBe(1);
});

it('serves the Open Inference Protocol infer call with the named outputs', async () => {
  const data = [(await digitPng(4, 800)).toString('base64')];
  const res = await fetch(`${base}/v2/models/mnist-cnn/infer`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id: 'r1', inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], data }] }),
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { id: string; outputs: { name: string; data: unknown[] }[] };
  expect(body.id).toBe('r1');
  expect(body.outputs.map((o) => o.name)).toEqual(['probabilities', 'digit', 'confidence', 'reliable', 'predictive_entropy', 'mutual_information']);
  expect(body.outputs[1].data).toEqual([4]);
});

it.each([
  ['unsupported content type', { 'content-type': 'text/plain' }, 'hello', 415, 'unsupported_media_type'],
  ['malformed JSON', { 'content-type': 'application/json' }, '{bad', 400, 'malformed_json'],
  ['wrong tensor shape', { 'content-type': 'application/json' }, '{"instances":[[[0.1,0.2]]]}', 422, 'invalid_tensor'],
  ['NaN-like pixel', { 'content-type': 'application/json' }, JSON.stringify({ instances: [Array(784).fill('x')] }), 422, 'invalid_tensor'],
])('refuses %s with a JSON error and stays healthy', async (_what, headers, body, status, code) => {
  const res = await fetch(`${base}/v1/models/mnist-cnn:predict`, { method: 'POST', headers, body });
  expect(res.status).toBe(status);
  expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
  expect((await fetch(`${base}/healthz`)).status).toBe(200);
});

it('answers 404 for a model it does not serve, in each protocol\'s error shape', async () => {
  const v1 = await fetch(`${base}/v1/models/other:predict`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: 'x' });
  expect(v1.status).toBe(404);
  expect(((await v1.json()) as { error: { code: string } }).error.code).toBe('model_not_found');
  const v2 = await fetch(`${base}/v2/models/other`);
  expect(v2.status).toBe(404);
  expect(typeof ((await v2.json()) as { error: string }).error).toBe('string');
});
