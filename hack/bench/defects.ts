// `npx tsx hack/bench/defects.ts <deadline|retry-after|p95> [--root DIR]`: the runtime figures of
// issue #15 items 8–10, measured the way the issue describes, against `runtime/main.ts` of this
// checkout (or of --root, e.g. a checkout of the code before the fix) on loopback. Prints JSON
// figures and asserts nothing.
//   deadline     PREPROCESS_WORKERS=1, REQUEST_TIMEOUT_MS=1000, ten concurrent 36-megapixel PNGs
//   retry-after  MAX_QUEUE=64, ten concurrent 64-image requests against a server idle since one request
//   p95          the p95 gauge and the duration histogram while 400 fast refusals (404) mix with
//                40 predictions
import { parseArgs } from 'node:util';
import { bigPng, encodeDigit, mnistDigit } from '../../test/support/images.js';
import { getText, metricValue, RuntimeProcess } from '../../test/support/runtime-process.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { root: { type: 'string' } } });
const scenario = positionals[0];
const root = values.root;

async function post(base: string, path: string, body: Buffer | string, type: string): Promise<{ status: number; ms: number; retryAfter: string | null }> {
  const t0 = performance.now();
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': type }, body });
  await res.arrayBuffer();
  return { status: res.status, ms: Math.round(performance.now() - t0), retryAfter: res.headers.get('retry-after') };
}

async function metrics(rp: RuntimeProcess): Promise<string> {
  return (await getText(`http://127.0.0.1:${rp.metricsPort}/metrics`)).text;
}

async function deadline(): Promise<object> {
  const png = await bigPng();
  const rp = await RuntimeProcess.start({ root, env: { PREPROCESS_WORKERS: '1', REQUEST_TIMEOUT_MS: '1000', LOG_LEVEL: 'warn' } });
  try {
    const t0 = performance.now();
    const answers = await Promise.all(Array.from({ length: 10 }, () => post(rp.baseUrl, '/v1/models/mnist-cnn:predict', png, 'image/png')));
    const allAnswered = Math.round(performance.now() - t0);
    const text = await metrics(rp);
    return {
      scenario: 'deadline', pngBytes: png.length, statuses: answers.map((a) => a.status), answerMs: answers.map((a) => a.ms), allAnsweredMs: allAnswered,
      preprocessed: metricValue(text, 'digitserve_preprocess_total', { outcome: 'done' }) ?? null,
      preprocessCancelled: metricValue(text, 'digitserve_preprocess_total', { outcome: 'cancelled' }) ?? null,
    };
  } finally {
    await rp.kill();
  }
}

async function retryAfter(): Promise<object> {
  const images = await Promise.all(Array.from({ length: 64 }, (_, i) => encodeDigit(mnistDigit(i).pixels, { format: 'png', invert: true, scale: 2 })));
  const body = JSON.stringify({ instances: images.map((b) => ({ b64: b.toString('base64') })) });
  const rp = await RuntimeProcess.start({ root, env: { MAX_QUEUE: '64', LOG_LEVEL: 'warn' } });
  try {
    // one request a while ago: the server is idle, its recent-throughput window nearly empty
    await post(rp.baseUrl, '/v1/models/mnist-cnn:predict', images[0], 'image/png');
    await new Promise((r) => setTimeout(r, 1_000));
    const t0 = performance.now();
    const answers = await Promise.all(Array.from({ length: 10 }, () => post(rp.baseUrl, '/v1/models/mnist-cnn:predict', body, 'application/json')));
    const drained = Math.round(performance.now() - t0);
    return {
      scenario: 'retry-after',
      statuses: answers.map((a) => a.status),
      retryAfter: answers.filter((a) => a.status === 429).map((a) => a.retryAfter),
      admittedAnsweredMs: answers.filter((a) => a.status === 200).map((a) => a.ms),
      queueDrainedMs: drained,
    };
  } finally {
    await rp.kill();
  }
}

async function p95(): Promise<object> {
  const png = await encodeDigit(mnistDigit(3).pixels, { format: 'png', invert: true, scale: 4 });
  const rp = await RuntimeProcess.start({ root, env: { LOG_LEVEL: 'warn' } });
  try {
    const predictions: Promise<{ status: number }>[] = [];
    const refusals: Promise<{ status: number }>[] = [];
    for (let i = 0; i < 40; i++) {
      predictions.push(post(rp.baseUrl, '/v1/models/mnist-cnn:predict', png, 'image/png'));
      for (let k = 0; k < 10; k++) refusals.push(post(rp.baseUrl, '/v1/models/no-such-model:predict', png, 'image/png'));
      await Promise.all([...predictions.slice(-1), ...refusals.slice(-10)]);
    }
    const text = await metrics(rp);
    return {
      scenario: 'p95',
      predictions: (await Promise.all(predictions)).filter((a) => a.status === 200).length,
      refusals: (await Promise.all(refusals)).filter((a) => a.status === 404).length,
      latencyP95Seconds: metricValue(text, 'digitserve_request_latency_p95_seconds'),
      durationHistogramCount: metricValue(text, 'digitserve_request_duration_seconds_count'),
      requests200: metricValue(text, 'digitserve_requests_total', { code: '200' }),
      requests404: metricValue(text, 'digitserve_requests_total', { code: '404' }),
    };
  } finally {
    await rp.kill();
  }
}

const run = { deadline, 'retry-after': retryAfter, p95 }[scenario ?? ''];
if (!run) {
  process.stderr.write('usage: tsx hack/bench/defects.ts <deadline|retry-after|p95> [--root DIR]\n');
  process.exit(2);
}
console.log(JSON.stringify(await run()));
