import { encodeDigit, mnistDigit } from '../../../support/images.js';
import { inferResponseSchema, oipModelMetadataSchema } from '../../../../runtime/server/schemas/oip.js';
import { startTestRuntime, type TestRuntime } from './support/in-process.js';

// The Open Inference Protocol (KServe v2) REST endpoints, as a standard client calls them.
let t: TestRuntime;
beforeAll(async () => {
  t = await startTestRuntime();
}, 120_000);
afterAll(() => t?.stop());

const infer = (body: unknown, path = '/v2/models/mnist-cnn/infer') =>
  fetch(`${t.base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('Open Inference Protocol', () => {
  it('GET /v2 answers server metadata', async () => {
    const body = (await (await fetch(`${t.base}/v2`)).json()) as Record<string, unknown>;
    expect(body).toEqual({ name: 'digitserve', version: expect.any(String), extensions: expect.any(Array) });
  });

  it('answers server liveness and readiness, and model readiness with and without version', async () => {
    expect(await (await fetch(`${t.base}/v2/health/live`)).json()).toEqual({ live: true });
    expect(await (await fetch(`${t.base}/v2/health/ready`)).json()).toEqual({ ready: true });
    for (const p of ['/v2/models/mnist-cnn/ready', '/v2/models/mnist-cnn/versions/1/ready']) {
      const res = await fetch(`${t.base}${p}`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ name: 'mnist-cnn', ready: true });
    }
  });

  it('declares inputs image (BYTES [-1]) and pixels (FP32 [-1,28,28,1]) and the SPEC outputs', async () => {
    for (const p of ['/v2/models/mnist-cnn', '/v2/models/mnist-cnn/versions/1']) {
      const meta = oipModelMetadataSchema.parse(await (await fetch(`${t.base}${p}`)).json());
      expect(meta.name).toBe('mnist-cnn');
      expect(meta.versions).toEqual(['1']);
      expect(meta.inputs).toEqual([
        { name: 'image', datatype: 'BYTES', shape: [-1] },
        { name: 'pixels', datatype: 'FP32', shape: [-1, 28, 28, 1] },
      ]);
      expect(meta.outputs).toEqual([
        { name: 'probabilities', datatype: 'FP32', shape: [-1, 10] },
        { name: 'digit', datatype: 'INT32', shape: [-1] },
        { name: 'confidence', datatype: 'FP32', shape: [-1] },
        { name: 'reliable', datatype: 'BOOL', shape: [-1] },
        { name: 'predictive_entropy', datatype: 'FP32', shape: [-1] },
        { name: 'mutual_information', datatype: 'FP32', shape: [-1] },
      ]);
    }
  });

  it('infers from BYTES images (base64 files, preprocessed like :predict), echoing the id', async () => {
    const indices = [7, 2, 4];
    const data = await Promise.all(indices.map(async (i) => (await encodeDigit(mnistDigit(i).pixels, { format: 'jpeg', invert: true, scale: 5 })).toString('base64')));
    const res = await infer({ id: 'req-7', inputs: [{ name: 'image', datatype: 'BYTES', shape: [3], data }] });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-model-version')).toBe('1');
    const body = inferResponseSchema.parse(await res.json());
    expect(body).toMatchObject({ model_name: 'mnist-cnn', model_version: '1', id: 'req-7' });
    const out = Object.fromEntries(body.outputs.map((o) => [o.name, o]));
    expect(out.digit).toEqual({ name: 'digit', datatype: 'INT32', shape: [3], data: indices.map((i) => mnistDigit(i).label) });
    expect(out.probabilities.shape).toEqual([3, 10]);
    expect(out.probabilities.data).toHaveLength(30);
    expect(out.reliable.datatype).toBe('BOOL');
    expect(out.reliable.data!.every((v) => typeof v === 'boolean')).toBe(true);
    for (const name of ['confidence', 'predictive_entropy', 'mutual_information']) {
      expect(out[name]).toMatchObject({ datatype: 'FP32', shape: [3] });
    }
  });

  it('infers from FP32 pixels sent flat or nested, on the versioned path too, with only the outputs asked for', async () => {
    const flat = [...mnistDigit(11).pixels, ...mnistDigit(13).pixels];
    const nested = [11, 13].map((i) => Array.from({ length: 28 }, (_, y) => Array.from({ length: 28 }, (_, x) => [mnistDigit(i).pixels[y * 28 + x]])));
    for (const [data, path] of [[flat, '/v2/models/mnist-cnn/infer'], [nested, '/v2/models/mnist-cnn/versions/1/infer']] as const) {
      const res = await infer({ inputs: [{ name: 'pixels', datatype: 'FP32', shape: [2, 28, 28, 1], data }], outputs: [{ name: 'digit' }, { name: 'reliable' }] }, path);
      expect(res.status).toBe(200);
      const body = inferResponseSchema.parse(await res.json());
      expect(body.id).toBeUndefined();
      expect(body.outputs.map((o) => o.name)).toEqual(['digit', 'reliable']);
      expect(body.outputs[0].data).toEqual([1, 3]);
    }
  });
});

describe('when the engine worker dies', () => {
  it('fails liveness (so the kubelet restarts the pod) and answers predictions 503 on both protocols', async () => {
    await t.runtime.service()!.engine.close(); // the worker exits while the server is not draining
    const live = await fetch(`${t.base}/healthz`);
    expect(live.status).toBe(503);
    expect((await fetch(`${t.base}/readyz`)).status).toBe(503);
    expect(await (await fetch(`${t.base}/v2/health/live`)).json()).toEqual({ live: false });
    const res = await infer({ inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 28, 28, 1], data: new Array(784).fill(0) }] });
    expect(res.status).toBe(503);
    const v1 = await fetch(`${t.base}/v1/models/mnist-cnn:predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: [Array.from({ length: 28 }, () => new Array(28).fill(0))] }) });
    expect(v1.status).toBe(503);
    expect(((await v1.json()) as { error: { code: string } }).error.code).toBe('not_ready');
  });
});
