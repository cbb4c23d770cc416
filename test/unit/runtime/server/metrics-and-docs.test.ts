import { METRIC } from '../../../../runtime/metrics/names.js';
import { encodeDigit, mnistDigit } from '../../../support/images.js';
import { predict, startTestRuntime, type TestRuntime } from './support/in-process.js';
import { modelCalibratedAt } from '../../../support/model-fixture.js';

let t: TestRuntime;
beforeAll(async () => {
  t = await startTestRuntime({ MODEL_URI: modelCalibratedAt(4, '3'), MODEL_NAME: 'postcodes', MODEL_TRACK: 'canary', MODEL_VERSION: '3' });
}, 120_000);
afterAll(() => t?.stop());

const png = (i: number) => encodeDigit(mnistDigit(i).pixels, { format: 'png', invert: true, scale: 3 });
const labels = 'model="postcodes",version="3",track="canary"';

describe('/metrics on METRICS_PORT', () => {
  it('exports every SPEC metric with model/version/track labels, and process metrics', async () => {
    const answer = await fetch(`${t.base}/v1/models/postcodes:predict`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: await png(3) });
    const { reliable } = ((await answer.json()) as { predictions: { reliable: boolean }[] }).predictions[0];
    await fetch(`${t.base}/v1/models/postcodes:predict`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' });
    const res = await fetch(t.metrics);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toContain(`${METRIC.requests}{code="200",${labels}} 1`);
    expect(text).toContain(`${METRIC.requests}{code="415",${labels}} 1`);
    // the refusal is counted by its code but not timed: the histogram holds the one prediction answered (#15 item 10)
    expect(text).toContain(`${METRIC.requestDuration}_count{${labels}} 1`);
    for (const le of ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2', '5']) {
      expect(text).toContain(`${METRIC.requestDuration}_bucket{le="${le}",${labels}}`);
    }
    expect(text).toMatch(new RegExp(`^${METRIC.queueDepth}\\{${labels}\\} [0-9.e-]+$`, 'm'));
    expect(text).toMatch(new RegExp(`^${METRIC.latencyP95}\\{${labels}\\} [0-9.e-]+$`, 'm'));
    expect(Number(new RegExp(`^${METRIC.latencyP95}\\{${labels}\\} (\\S+)$`, 'm').exec(text)![1])).toBeGreaterThan(0);
    expect(text).toContain(`${METRIC.batchSize}_count{${labels}} 1`);
    expect(text).toContain(`${METRIC.inferenceDuration}_count{${labels}} 1`);
    expect(text).toContain(`${METRIC.predictions}{digit="3",reliable="${reliable}",${labels}} 1`);
    expect(text).toContain(`${METRIC.confidence}_count{${labels}} 1`);
    expect(text).toMatch(new RegExp(`^${METRIC.unreliable}\\{${labels}\\} ${reliable ? 0 : 1}$`, 'm'));
    expect(text).toMatch(new RegExp(`^process_resident_memory_bytes\\{${labels}\\} \\d+`, 'm'));
    for (const line of text.split('\n').filter((l) => l.startsWith('digitserve_'))) expect(line).toContain(labels);
  });

  it('serves only /metrics on that port, and no /metrics on the API port', async () => {
    expect((await fetch(t.metrics.replace('/metrics', '/healthz'))).status).toBe(404);
    expect((await fetch(`${t.base}/metrics`)).status).toBe(404);
  });

  it('answers under MODEL_NAME, reports MODEL_VERSION and MODEL_TRACK, and knows the store name', async () => {
    const res = await predict(t.base, await png(1), 'image/png');
    expect(res.status).toBe(404); // mnist-cnn is the store name, not the served name
    const ok = await fetch(`${t.base}/v1/models/postcodes:predict`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: await png(1) });
    expect(ok.headers.get('x-model-version')).toBe('3');
    expect(ok.headers.get('x-model-track')).toBe('canary');
    expect(((await ok.json()) as { model: object }).model).toEqual({ name: 'postcodes', storeName: 'mnist-cnn', version: '3', track: 'canary' });
    const oip = (await (await fetch(`${t.base}/v2/models/postcodes/versions/3`)).json()) as { name: string; versions: string[] };
    expect(oip).toMatchObject({ name: 'postcodes', versions: ['3'] });
  });
});

describe('/openapi.json and /docs', () => {
  it('describes every SPEC route with schemas generated from the validating zod schemas', async () => {
    const doc = (await (await fetch(`${t.base}/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, unknown> }; responses: Record<string, unknown> }>>;
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    };
    expect(doc.openapi).toMatch(/^3\./);
    for (const [path, method] of [
      ['/v1/models/{name}:predict', 'post'], ['/v1/models', 'get'], ['/v1/models/{name}', 'get'], ['/healthz', 'get'], ['/readyz', 'get'],
      ['/v2', 'get'], ['/v2/health/live', 'get'], ['/v2/health/ready', 'get'], ['/v2/models/{name}', 'get'], ['/v2/models/{name}/versions/{version}', 'get'],
      ['/v2/models/{name}/ready', 'get'], ['/v2/models/{name}/versions/{version}/ready', 'get'], ['/v2/models/{name}/infer', 'post'], ['/v2/models/{name}/versions/{version}/infer', 'post'],
    ]) {
      expect(doc.paths[path]?.[method]).toBeDefined();
    }
    const predictOp = doc.paths['/v1/models/{name}:predict'].post;
    expect(Object.keys(predictOp.requestBody!.content)).toEqual(expect.arrayContaining(['image/png', 'image/jpeg', 'multipart/form-data', 'application/json']));
    expect(Object.keys(predictOp.responses)).toEqual(expect.arrayContaining(['200', '400', '404', '413', '415', '422', '429', '503', '504']));
    expect(Object.keys(doc.components.schemas.Prediction.properties!)).toEqual(['digit', 'probability', 'probabilities', 'confidence', 'reliable', 'uncertainty']);
    expect(doc.components.schemas.InferRequest.properties).toHaveProperty('inputs');
    expect(JSON.stringify(doc)).not.toContain('$id');
  });

  it('serves a self-contained interactive page (no external scripts) that reads the document', async () => {
    const res = await fetch(`${t.base}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const html = await res.text();
    expect(html).toContain("fetch('/openapi.json')");
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href="https?:/);
  });
});
