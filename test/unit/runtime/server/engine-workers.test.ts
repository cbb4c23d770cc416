import { METRIC } from '../../../../runtime/metrics/names.js';
import { encodeDigit, mnistDigit } from '../../../support/images.js';
import { errorCode, predict, startTestRuntime, type TestRuntime } from './support/in-process.js';

// The runtime with two engine workers (ENGINE_WORKERS=2), over real HTTP with real PNGs. A pool of
// two is a wasm pool: native TensorFlow runs one engine worker per process (engine-pool.ts), and
// where tfjs-node is installed `auto` would pick it.
let t: TestRuntime;
let png: Buffer[];
beforeAll(async () => {
  t = await startTestRuntime({ ENGINE_WORKERS: '2', TFJS_BACKEND: 'wasm' });
  png = await Promise.all([0, 1, 2, 3].map((i) => encodeDigit(mnistDigit(i).pixels, { format: 'png' })));
}, 180_000);
afterAll(() => t?.stop());

const metricValue = (text: string, name: string, labels = ''): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(name + '{') && l.includes(labels));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
};

async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, 50));
}

describe('the engine worker pool in the runtime', () => {
  it('serves with both workers and reports each one\'s memory and the count in /metrics', async () => {
    const answers = await Promise.all(Array.from({ length: 16 }, (_, i) => predict(t.base, png[i % png.length], 'image/png')));
    expect(answers.map((r) => r.status)).toEqual(new Array(16).fill(200));
    const stats = t.runtime.service()!.engine.stats();
    expect(stats).toHaveLength(2);
    const text = await (await fetch(t.metrics)).text();
    expect(metricValue(text, METRIC.engineWorkers)).toBe(2);
    for (const w of ['0', '1']) expect(metricValue(text, METRIC.engineWorkerMemory, `worker="${w}"`)).toBeGreaterThan(1024 * 1024);
    expect(metricValue(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  }, 120_000);

  it('answers every request while a worker dies under load (200, or 503 for its batch), replaces it, and stays live', async () => {
    const engine = t.runtime.service()!.engine;
    const load = Array.from({ length: 48 }, (_, i) => predict(t.base, png[i % png.length], 'image/png'));
    await engine.worker(0)!.kill();
    const answered = await Promise.all(load);
    const statuses = answered.map((r) => r.status);
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
    for (const r of answered.filter((a) => a.status === 503)) expect(await errorCode(r)).toBe('not_ready');
    expect((await fetch(`${t.base}/healthz`)).status).toBe(200);
    await until(async () => metricValue(await (await fetch(t.metrics)).text(), METRIC.engineWorkerReplacements) === 1);
    await until(async () => metricValue(await (await fetch(t.metrics)).text(), METRIC.engineWorkers) === 2);
    const after = await Promise.all(Array.from({ length: 8 }, (_, i) => predict(t.base, png[i % png.length], 'image/png')));
    expect(after.map((r) => r.status)).toEqual(new Array(8).fill(200));
    expect((await fetch(`${t.base}/readyz`)).status).toBe(200);
  }, 180_000);
});
