import { encodeDigit, mnistDigit } from '../../../support/images.js';
import { predictResponseSchema } from '../../../../runtime/server/schemas/v1.js';
import { logLine, predict, startTestRuntime, type TestRuntime } from './support/in-process.js';
import { modelCalibratedAt } from '../../../support/model-fixture.js';

// The real runtime (engine worker, default model) over real HTTP with real encoded images.
let t: TestRuntime;
beforeAll(async () => {
  t = await startTestRuntime({ MODEL_URI: modelCalibratedAt(6) });
}, 120_000);
afterAll(() => t?.stop());

const digit = (i: number) => mnistDigit(i);
const png = (i: number, opts = {}) => encodeDigit(digit(i).pixels, { format: 'png', invert: true, scale: 6, ...opts });

type Body = ReturnType<typeof predictResponseSchema.parse>;

describe(':predict', () => {
  it.each([
    ['image/png', 'png'],
    ['image/jpeg', 'jpeg'],
    ['image/webp', 'webp'],
    ['image/gif', 'gif'],
    ['image/tiff', 'tiff'],
  ] as const)('classifies a raw %s body and answers the SPEC shape with model headers', async (type, format) => {
    const d = digit(7);
    const res = await predict(t.base, await encodeDigit(d.pixels, { format, invert: true, scale: 5 }), type);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-model-version')).toBe('1');
    expect(res.headers.get('x-model-track')).toBe('stable');
    const body = predictResponseSchema.parse(await res.json());
    expect(body.model).toEqual({ name: 'mnist-cnn', storeName: 'mnist-cnn', version: '1', track: 'stable' });
    expect(body.predictions).toHaveLength(1);
    const p = body.predictions[0];
    expect(p.digit).toBe(d.label);
    expect(p.probabilities).toHaveLength(10);
    expect(p.probability).toBe(p.probabilities[p.digit]);
    expect(p.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    expect(p.uncertainty).toMatchObject({ method: 'mc-dropout', samples: 6 });
    for (const k of ['predictiveEntropy', 'expectedEntropy', 'mutualInformation', 'variationRatio', 'stdDev'] as const) {
      expect(Number.isFinite(p.uncertainty[k])).toBe(true);
    }
    expect(p.uncertainty.mutualInformation).toBeGreaterThanOrEqual(0);
  });

  it('sniffs the format of an application/octet-stream or untyped body (what curl --data-binary sends)', async () => {
    const body = await png(3);
    for (const type of ['application/octet-stream', 'application/x-www-form-urlencoded']) {
      const res = await predict(t.base, body, type);
      expect(res.status).toBe(200);
      expect(((await res.json()) as Body).predictions[0].digit).toBe(3);
    }
  });

  it('accepts a JPEG declared as PNG: the bytes decide', async () => {
    const res = await predict(t.base, await encodeDigit(digit(5).pixels, { format: 'jpeg', invert: true, scale: 4 }), 'image/png');
    expect(res.status).toBe(200);
    expect(((await res.json()) as Body).predictions[0].digit).toBe(5);
  });

  it('answers a multipart batch (any field names) with one prediction per file, in order', async () => {
    const form = new FormData();
    const indices = [2, 13, 9, 4]; // held-out digits 2, 3, 9, 4
    for (const [k, i] of indices.entries()) form.append(k % 2 ? 'file' : `img${k}`, new Blob([await png(i)], { type: 'image/png' }), `${i}.png`);
    form.append('note', 'non-file fields are ignored');
    const res = await fetch(`${t.base}/v1/models/mnist-cnn:predict`, { method: 'POST', body: form });
    expect(res.status).toBe(200);
    const body = predictResponseSchema.parse(await res.json());
    expect(body.predictions.map((p) => p.digit)).toEqual(indices.map((i) => digit(i).label));
  });

  it('answers JSON instances mixing {"b64"} images and 28×28 arrays (also 28×28×1), in order', async () => {
    const b64 = (await png(6)).toString('base64');
    const rows = (i: number) => Array.from({ length: 28 }, (_, y) => Array.from(digit(i).pixels.subarray(y * 28, y * 28 + 28)));
    const rows1 = rows(8).map((r) => r.map((v) => [v]));
    const res = await predict(t.base, JSON.stringify({ instances: [{ b64 }, rows(1), rows1] }), 'application/json');
    expect(res.status).toBe(200);
    expect(((await res.json()) as Body).predictions.map((p) => p.digit)).toEqual([6, 1, 8]);
  });

  it('marks reliable exactly when confidence reaches the served threshold', async () => {
    const meta = (await (await fetch(`${t.base}/v1/models/mnist-cnn`)).json()) as { reliabilityThreshold: number };
    const form = new FormData();
    for (let i = 0; i < 10; i++) form.append('f', new Blob([await png(i + 20)]), 'x.png');
    const blank = await encodeDigit(new Float32Array(784), { format: 'png', scale: 4 });
    form.append('f', new Blob([blank]), 'blank.png');
    const body = (await (await fetch(`${t.base}/v1/models/mnist-cnn:predict`, { method: 'POST', body: form })).json()) as Body;
    for (const p of body.predictions) expect(p.reliable).toBe(p.confidence >= meta.reliabilityThreshold);
    expect(body.predictions.at(-1)!.reliable).toBe(false); // a blank page is no digit
  });

  it('echoes a client request id and a W3C traceparent, and logs both', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const res = await predict(t.base, await png(1), 'image/png', { 'x-request-id': 'req-42', traceparent });
    expect(res.headers.get('x-request-id')).toBe('req-42');
    expect(res.headers.get('traceparent')).toBe(traceparent);
    const line = t.logs.find((l) => l.requestId === 'req-42' && l.msg === 'request');
    expect(line).toMatchObject({ traceparent, traceId: '4bf92f3577b34da6a3ce929d0e0e4736', status: 200, path: '/v1/models/mnist-cnn:predict', images: 1 });
    const generated = await fetch(`${t.base}/healthz`);
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(generated.headers.get('traceparent')).toBeNull();
  });

  it("logs where a request's time went: body, preprocessing worker (hand-off, decode, JS steps), batch wait, engine", async () => {
    // a photo-sized JPEG (1,200 px square) and a multipart request of two images
    const jpeg = await encodeDigit(digit(3).pixels, { format: 'jpeg', invert: true, scale: 40, noise: 0.05 });
    const res = await predict(t.base, jpeg, 'image/jpeg', { 'x-request-id': 'req-stages' });
    expect(res.status).toBe(200);
    const form = new FormData();
    for (const i of [1, 2]) form.append('image', new Blob([new Uint8Array(await png(i))], { type: 'image/png' }), `${i}.png`);
    expect((await fetch(`${t.base}/v1/models/mnist-cnn:predict`, { method: 'POST', headers: { 'x-request-id': 'req-stages-2' }, body: form })).status).toBe(200);
    for (const id of ['req-stages', 'req-stages-2']) {
      const line = (await logLine(t, (l) => l.requestId === id && l.msg === 'request')) as { ms: number; stages: Record<string, number> } | undefined;
      const stages = line!.stages;
      expect(Object.keys(stages)).toEqual(['body', 'toWorker', 'decode', 'steps', 'fromWorker', 'batchWait', 'engine', 'rest']);
      for (const v of Object.values(stages)) expect(v).toBeGreaterThanOrEqual(0);
      expect(stages.decode).toBeGreaterThan(0);
      expect(stages.engine).toBeGreaterThan(0);
      // consecutive spans within the request's time in the server (each rounded to 0.1 ms)
      const sum = Object.values(stages).reduce((a, b) => a + b, 0);
      expect(sum).toBeLessThanOrEqual(line!.ms + 0.5);
    }
  });

  it('logs the stages of OIP requests too: parsing the tensors, then preprocessing (encoded images) or not (pixels)', async () => {
    const infer = (id: string, input: object) =>
      fetch(`${t.base}/v2/models/mnist-cnn/infer`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': id }, body: JSON.stringify({ inputs: [input] }) });
    const image = { name: 'image', datatype: 'BYTES', shape: [2], data: [(await png(1)).toString('base64'), (await png(2)).toString('base64')] };
    expect((await infer('oip-image', image)).status).toBe(200);
    const pixels = { name: 'pixels', datatype: 'FP32', shape: [1, 28, 28, 1], data: [...digit(5).pixels] };
    expect((await infer('oip-pixels', pixels)).status).toBe(200);
    const lineOf = async (id: string) => (await logLine(t, (l) => l.requestId === id && l.msg === 'request')) as { ms: number; stages: Record<string, number> };
    expect(Object.keys((await lineOf('oip-image')).stages)).toEqual(['body', 'parse', 'toWorker', 'decode', 'steps', 'fromWorker', 'batchWait', 'engine', 'rest']);
    expect((await lineOf('oip-image')).stages.decode).toBeGreaterThan(0);
    expect(Object.keys((await lineOf('oip-pixels')).stages)).toEqual(['body', 'parse', 'prepare', 'batchWait', 'engine', 'rest']);
    for (const id of ['oip-image', 'oip-pixels']) {
      const line = await lineOf(id);
      expect(line.stages.engine).toBeGreaterThan(0);
      expect(Object.values(line.stages).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(line.ms + 0.5);
    }
  });

  it('accepts the colon percent-encoded', async () => {
    const res = await fetch(`${t.base}/v1/models/mnist-cnn%3Apredict`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: await png(4) });
    expect(res.status).toBe(200);
  });
});

describe('model listing and metadata', () => {
  it('lists the served model and describes it with samples, threshold, labels, limits and training figures', async () => {
    expect(await (await fetch(`${t.base}/v1/models`)).json()).toEqual({ models: [{ name: 'mnist-cnn', version: '1', track: 'stable' }] });
    const meta = (await (await fetch(`${t.base}/v1/models/mnist-cnn`)).json()) as Record<string, unknown>;
    expect(meta).toMatchObject({
      name: 'mnist-cnn',
      version: '1',
      track: 'stable',
      samples: 6,
      labels: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
      limits: { maxBodyBytes: 10 * 1024 * 1024, maxInputPixels: 40_000_000, maxImagesPerRequest: 64, maxQueue: 512, requestTimeoutMs: 10_000 },
    });
    expect(typeof meta.reliabilityThreshold).toBe('number');
    expect(meta.evaluation).toBeDefined();
    expect(meta.training).toBeDefined();
  });
});
