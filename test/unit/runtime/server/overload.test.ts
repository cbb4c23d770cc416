import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseConfig } from '../../../../runtime/config.js';
import { Lifecycle } from '../../../../runtime/lifecycle.js';
import { createLogger } from '../../../../runtime/logger.js';
import { createApp } from '../../../../runtime/server/app.js';
import { encodeDigit, mnistDigit } from '../../../support/images.js';
import { errorCode, predict, startTestRuntime, type TestRuntime } from './support/in-process.js';
import { modelCalibratedAt } from '../../../support/model-fixture.js';

// Load behaviour with the real engine: probes stay fast while a large batch is computed, a full
// queue sheds with 429 + Retry-After, deadlines answer 504 (also for work still queued), and a
// server without a loaded model answers 503.

const instances = (n: number) => JSON.stringify({ instances: Array.from({ length: n }, (_, i) => Array.from({ length: 28 }, (_, y) => Array.from(mnistDigit(i).pixels.subarray(y * 28, y * 28 + 28)))) });

async function depth(t: TestRuntime): Promise<number> {
  return ((await (await fetch(`${t.base}/v1/stats`)).json()) as { queueDepthNow: number }).queueDepthNow;
}
/** Polls until `cond` holds; gives up (failing the test with `what`) after ~4000 polls instead of hanging. */
async function until(cond: () => Promise<boolean>, what = 'condition'): Promise<void> {
  for (let i = 0; i < 4000; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`gave up waiting for ${what}`);
}

describe('with large batches in inference (T = 128, 32 images per batch)', () => {
  let t: TestRuntime;
  beforeAll(async () => {
    // a generous deadline: on a loaded machine a batch can take seconds, and a 504 would empty the queue the tests fill
    t = await startTestRuntime({ MODEL_URI: modelCalibratedAt(128), MAX_BATCH_SIZE: '32', MAX_IMAGES_PER_REQUEST: '32', MAX_QUEUE: '32', REQUEST_TIMEOUT_MS: '300000', MAX_BODY_BYTES: String(64 << 20) });
  }, 120_000);
  afterAll(() => t?.stop());

  const probes = () => Promise.all([`${t.base}/healthz`, `${t.base}/readyz`, `${t.base}/v2/health/live`, `${t.base}/v2/health/ready`, t.metrics].map((u) => fetch(u).then((r) => r.status)));

  it('answers health probes, metrics and OIP health before the batch completes', async () => {
    let batchDone = false;
    const big = predict(t.base, instances(32), 'application/json').then((r) => {
      batchDone = true;
      return r;
    });
    await until(async () => batchDone || (await depth(t)) === 32, 'the batch to reach the engine');
    expect(batchDone).toBe(false);
    expect(await probes()).toEqual([200, 200, 200, 200, 200]);
    expect(batchDone).toBe(false);
    expect((await big).status).toBe(200);
  });

  it('answers health probes while a multipart batch of large photos is preprocessed and computed', async () => {
    const form = new FormData();
    for (let i = 0; i < 16; i++) form.append('photo', new Blob([await encodeDigit(mnistDigit(i + 1).pixels, { format: 'jpeg', invert: true, scale: 12 })], { type: 'image/jpeg' }), `${i}.jpg`);
    let batchDone = false;
    const big = fetch(`${t.base}/v1/models/mnist-cnn:predict`, { method: 'POST', body: form }).then((r) => {
      batchDone = true;
      return r;
    });
    const stats = async () => (await (await fetch(`${t.base}/v1/stats`)).json()) as { requestsInFlight: number };
    await until(async () => batchDone || (await stats()).requestsInFlight >= 2, 'the upload to arrive');
    expect(batchDone).toBe(false);
    expect(await probes()).toEqual([200, 200, 200, 200, 200]);
    expect(batchDone).toBe(false);
    const res = await big;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { predictions: unknown[] }).predictions).toHaveLength(16);
  });

  it('sheds with 429, a JSON body and Retry-After once the queue holds MAX_QUEUE images; accepted work is still answered', async () => {
    // six full requests at once: one in the engine, one filling the queue, the rest beyond MAX_QUEUE
    const answers = await Promise.all(Array.from({ length: 6 }, () => predict(t.base, instances(32), 'application/json')));
    const statuses = answers.map((r) => r.status);
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
    const refused = answers.filter((r) => r.status === 429);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(2);
    for (const r of refused) {
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(r.headers.get('x-model-version')).toBe('1'); // refusals say which version answered
      expect(await errorCode(r)).toBe('queue_full');
    }
    for (const r of answers.filter((x) => x.status === 200)) expect(((await r.json()) as { predictions: unknown[] }).predictions).toHaveLength(32);
    const metrics = await (await fetch(t.metrics)).text();
    expect(metrics).toMatch(new RegExp(`digitserve_requests_total\\{code="429",model="mnist-cnn",version="1",track="stable"\\} ${refused.length}`));
  });

  it('answers 429 in the OIP shape on /v2 too', async () => {
    const oip = () =>
      fetch(`${t.base}/v2/models/mnist-cnn/infer`, {
        method: 'POST',
        body: JSON.stringify({ inputs: [{ name: 'pixels', datatype: 'FP32', shape: [32, 28, 28, 1], data: new Array(32 * 784).fill(0) }] }),
      });
    const answers = await Promise.all(Array.from({ length: 6 }, oip));
    const refused = answers.filter((r) => r.status === 429);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(typeof ((await refused[0].json()) as { error: string }).error).toBe('string');
  });
});

describe('with a burst of large photos still being decoded (one preprocessing worker, MAX_QUEUE 4)', () => {
  let t: TestRuntime;
  beforeAll(async () => {
    t = await startTestRuntime({ PREPROCESS_WORKERS: '1', MAX_QUEUE: '4', MAX_IMAGES_PER_REQUEST: '4', REQUEST_TIMEOUT_MS: '300000' });
  }, 120_000);
  afterAll(() => t?.stop());

  it('sheds at the door with 429 + Retry-After: images being preprocessed count against MAX_QUEUE', async () => {
    // each photo takes the single worker a while to decode, so the burst piles up in preprocessing,
    // not in the batcher's queue: only counting admitted images at the door can refuse any of it
    const photo = await encodeDigit(mnistDigit(3).pixels, { format: 'jpeg', invert: true, scale: 40, canvas: { width: 2400, height: 1800 } });
    const answers = await Promise.all(Array.from({ length: 12 }, () => predict(t.base, photo, 'image/jpeg')));
    const statuses = answers.map((r) => r.status);
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
    const refused = answers.filter((r) => r.status === 429);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(4);
    for (const r of refused) {
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(await errorCode(r)).toBe('queue_full');
    }
    for (const r of answers.filter((x) => x.status === 200)) expect(((await r.json()) as { predictions: { digit: number }[] }).predictions[0].digit).toBe(3);
    expect(await depth(t)).toBe(0); // every admission was released or answered
    expect((await fetch(`${t.base}/readyz`)).status).toBe(200);
  });
});

describe('with a deadline shorter than the batch gathering time (REQUEST_TIMEOUT_MS 1 < BATCH_TIMEOUT_MS 5)', () => {
  let t: TestRuntime;
  beforeAll(async () => {
    t = await startTestRuntime({ REQUEST_TIMEOUT_MS: '1', BATCH_TIMEOUT_MS: '5' });
  }, 120_000);
  afterAll(() => t?.stop());

  const batches = async () => Number(/digitserve_batch_size_count\{[^}]*\} (\d+)/.exec(await (await fetch(t.metrics)).text())?.[1] ?? NaN);

  it('answers 504 deadline_exceeded on every protocol and never runs the expired work', async () => {
    const res = await predict(t.base, instances(2), 'application/json');
    expect(res.status).toBe(504);
    expect(await errorCode(res)).toBe('deadline_exceeded');
    const oip = await fetch(`${t.base}/v2/models/mnist-cnn/infer`, {
      method: 'POST',
      body: JSON.stringify({ inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 28, 28, 1], data: new Array(784).fill(0) }] }),
    });
    expect(oip.status).toBe(504);
    expect(typeof ((await oip.json()) as { error: string }).error).toBe('string');
    expect(await batches()).toBe(0); // dropped from the queue, not computed and thrown away
    expect((await fetch(`${t.base}/healthz`)).status).toBe(200);
  });
});

describe('before the model is loaded, and while draining', () => {
  let server: http.Server;
  let base: string;
  const lifecycle = new Lifecycle();
  beforeAll(async () => {
    const app = createApp({ config: parseConfig({}), logger: createLogger('silent'), lifecycle, service: () => undefined });
    server = http.createServer(app.callback());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('is live but not ready, and answers predictions 503 not_ready in both shapes', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(await errorCode(ready)).toBe('not_ready');
    expect((await fetch(`${base}/v2/health/ready`)).status).toBe(503);
    const res = await predict(base, Buffer.from('x'), 'image/png');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(await errorCode(res)).toBe('not_ready');
    const oip = await fetch(`${base}/v2/models/mnist-cnn/infer`, { method: 'POST', body: '{}' });
    expect(oip.status).toBe(503);
    expect(typeof ((await oip.json()) as { error: string }).error).toBe('string');
  });

  it('turns readiness to 503 draining once draining starts', async () => {
    lifecycle.markReady();
    lifecycle.startDraining();
    const res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(503);
    expect(await errorCode(res)).toBe('draining');
    expect(res.headers.get('connection')).toBe('close');
  });
});
