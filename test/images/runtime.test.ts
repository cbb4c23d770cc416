import { defaultModelVersion } from '../support/model-fixture.js';
import { freePort, metricValue } from '../support/runtime-process.js';
import { askDigits, rightAnswers } from './support/digits.js';
import { docker, imageEntry, inspect, logsOf, memoryOf, startRuntime, terminate } from './support/docker.js';

// The runtime image as the operator's pod template runs it: non-root (65532), read-only root
// filesystem with /tmp as the only writable place (an emptyDir in the pod), no capabilities.
// Host network (the engine has no bridge), on free ports given through PORT / METRICS_PORT.

const RUNTIME_BUDGET_BYTES = 350_000_000;
const image = imageEntry('runtime');
let id = '';
let base = '';
let metricsBase = '';

beforeAll(async () => {
  ({ id, base, metricsBase } = await startRuntime(image.ref, freePort));
}, 400_000);

afterAll(async () => {
  if (id) await docker(['rm', '-f', id]).catch(() => undefined);
}, 120_000);

it('declares the nonroot user 65532, the ports and the baked-in default model', async () => {
  const config = await inspect<{ User: string; Env: string[]; WorkingDir: string }>(image.ref, '.Config');
  expect(config.User).toBe('65532:65532');
  expect(config.Env).toEqual(expect.arrayContaining(['PORT=8080', 'METRICS_PORT=9090', 'GRPC_PORT=8081']));
  // memory settings that must be in place before the process starts (docs/performance.md "Memory")
  expect(config.Env).toEqual(expect.arrayContaining(['NODE_OPTIONS=--max-semi-space-size=4']));
  const listed = (await (await fetch(`${base}/v1/models`)).json()) as { models: { name: string; version: string }[] };
  expect(listed.models).toEqual([expect.objectContaining({ name: 'mnist-cnn', version: defaultModelVersion() })]);
});

it(`stays within its size budget (${RUNTIME_BUDGET_BYTES / 1e6} MB uncompressed)`, async () => {
  const size = await inspect<number>(image.ref, '.Size');
  console.log(`${image.ref}: ${(size / 1e6).toFixed(1)} MB uncompressed`);
  expect(size).toBe(image.sizeBytes);
  expect(size).toBeLessThanOrEqual(RUNTIME_BUDGET_BYTES);
});

it('runs the wasm backend (its .wasm binaries are found) and sharp decodes PNGs (libvips for linux-x64)', async () => {
  const logs = await logsOf(id);
  const ready = logs.split('\n').find((l) => l.includes('"backend"'));
  expect(ready).toBeDefined();
  expect(JSON.parse(ready as string)).toMatchObject({ backend: 'wasm' });
  const answers = await askDigits(base, 10);
  for (const a of answers) {
    expect(a.status).toBe(200);
    expect(a.prediction?.uncertainty.method).toBe('mc-dropout');
  }
  const correct = rightAnswers(answers);
  // the default model gets ~99% of held-out digits right; one miss in ten is allowed
  expect(correct).toBeGreaterThanOrEqual(9);
  console.log(`${image.ref} after 10 predictions: ${await memoryOf(id)}`);
}, 300_000);

it('serves Prometheus metrics on the metrics port, counting the predictions', async () => {
  const res = await fetch(`${metricsBase}/metrics`);
  expect(res.status).toBe(200);
  const text = await res.text();
  expect(text).toContain('digitserve_requests_total');
  expect(metricValue(text, 'digitserve_requests_total', { code: '200' })).toBeGreaterThanOrEqual(10);
});

it('drains and exits 0 on SIGTERM', async () => {
  const { code, logs } = await terminate(id);
  expect(logs).toContain('draining');
  expect(logs).toContain('"stopped"');
  expect(code).toBe('0');
}, 360_000);
