import { encodeDigit, mnistDigit } from '../support/images.js';
import { defaultModelVersion } from '../support/model-fixture.js';
import { processBreakdown } from '../../hack/bench/load/smaps.js';
import { freePort, metricValue } from '../support/runtime-process.js';
import { askDigits, rightAnswers } from './support/digits.js';
import { docker, filesOf, imageEntry, inspect, logsOf, memoryOf, startRuntime, terminate } from './support/docker.js';

// The native variant of the runtime image (`npm run images -- --native`: Dockerfile.runtime with
// TFJS_NODE=true, @tensorflow/tfjs-node installed by hack/tfjs-node/setup.sh --copy) run as the
// operator's pod template runs the runtime: non-root (65532), read-only root filesystem with /tmp
// the only writable place, no capabilities; the TensorFlow libraries load from the read-only root.
// TFJS_BACKEND is left unset (auto), as a user runs it: the image must pick native TensorFlow.

// measured 977 MB: the wasm image (308 MB) + TensorFlow's stripped C library (634 MB) + the
// tfjs-node package and its dependencies; unstripped libraries (+215 MB) would not fit
const NATIVE_BUDGET_BYTES = 1_100_000_000;
const image = imageEntry('runtime', 'native');
let id = '';
let base = '';
let metricsBase = '';

const predict = (png: Buffer) => fetch(`${base}/v1/models/mnist-cnn:predict`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: png });

beforeAll(async () => {
  // loading a 580 MB library, the model and the warm-up: the same generous wait
  ({ id, base, metricsBase } = await startRuntime(image.ref, freePort));
}, 400_000);

afterAll(async () => {
  if (id) await docker(['rm', '-f', id]).catch(() => undefined);
}, 120_000);

it(`is the runtime image with native TensorFlow, within its size budget (${NATIVE_BUDGET_BYTES / 1e6} MB uncompressed)`, async () => {
  const size = await inspect<number>(image.ref, '.Size');
  const wasm = await inspect<number>(imageEntry('runtime').ref, '.Size');
  console.log(`${image.ref}: ${(size / 1e6).toFixed(1)} MB uncompressed (the wasm image: ${(wasm / 1e6).toFixed(1)} MB)`);
  expect(size).toBe(image.sizeBytes);
  expect(size).toBeLessThanOrEqual(NATIVE_BUDGET_BYTES);
  const config = await inspect<{ User: string; Env: string[]; Cmd: string[] }>(image.ref, '.Config');
  expect(config.User).toBe('65532:65532');
  expect(config.Env).toEqual(expect.arrayContaining(['PORT=8080', 'METRICS_PORT=9090', 'GRPC_PORT=8081']));
  // memory settings that must be in place before the process starts (docs/performance.md "Memory")
  expect(config.Env).toEqual(expect.arrayContaining(['NODE_OPTIONS=--max-semi-space-size=4']));
  expect(config.Cmd).toEqual(['runtime/main.js']);
});

it('runs native TensorFlow: the engine, the model resource and the v2 metadata report backend tensorflow', async () => {
  const engineReady = (await logsOf(id)).split('\n').find((l) => l.includes('"engine ready"'));
  expect(engineReady).toBeDefined();
  const logged = JSON.parse(engineReady as string) as { backend: string; backendFallback?: string };
  expect(logged.backend).toBe('tensorflow');
  expect(logged.backendFallback).toBeUndefined();
  const model = (await (await fetch(`${base}/v1/models/mnist-cnn`)).json()) as { backend: string; ready: boolean; version: string };
  expect(model).toMatchObject({ backend: 'tensorflow', ready: true, version: defaultModelVersion() });
  const v2 = (await (await fetch(`${base}/v2/models/mnist-cnn`)).json()) as { platform: string };
  expect(v2.platform).toBe('tensorflowjs_layers_tensorflow');
});

it('reads real MNIST digits sent as PNGs, with MC-dropout uncertainty', async () => {
  const answers = await askDigits(base, 10);
  for (const a of answers) {
    expect(a.status).toBe(200);
    expect(a.prediction?.uncertainty).toMatchObject({ method: 'mc-dropout', samples: 30 });
  }
  const correct = rightAnswers(answers);
  // the default model gets ~99% of held-out digits right; one miss in ten is allowed
  expect(correct).toBeGreaterThanOrEqual(9);
}, 300_000);

it('answers a short burst (64 requests, 8 in flight) and says what memory it takes', async () => {
  const pngs = await Promise.all(Array.from({ length: 64 }, (_, i) => encodeDigit(mnistDigit(100 + i).pixels, { format: 'png', invert: true, scale: 4 })));
  const statuses: number[] = [];
  await Promise.all(
    Array.from({ length: 8 }, async (_, k) => {
      for (let i = k; i < pngs.length; i += 8) {
        const res = await predict(pngs[i]);
        await res.arrayBuffer();
        statuses.push(res.status);
      }
    }),
  );
  expect(statuses).toEqual(Array(64).fill(200));
  console.log(`${image.ref} after 74 predictions: ${await memoryOf(id)}`);
}, 300_000);

it('runs with its memory setting in effect (4 MiB V8 semi-spaces) and says where its memory is', async () => {
  // after the burst above, whose threads (TensorFlow's pools, libvips, the workers) all allocated
  const pid = await inspect<number>(id, '.State.Pid');
  const mem = processBreakdown(pid);
  expect(mem).toBeDefined();
  expect(mem!.fileMiB).toBeGreaterThan(0);
  // --max-semi-space-size=4: the main thread's new space is two semi-spaces of at most 4 MiB (unset: up to 32 MiB)
  const metrics = await (await fetch(`${metricsBase}/metrics`)).text();
  const newSpace = metricValue(metrics, 'nodejs_heap_space_size_total_bytes', { space: 'new' });
  expect(newSpace).toBeGreaterThan(0);
  expect(newSpace!).toBeLessThanOrEqual(2 * 4 * 2 ** 20);
  console.log(`${image.ref} memory after the burst: RSS ${mem!.rssMiB} MiB = anonymous ${mem!.anonMiB} + file-backed ${mem!.fileMiB} (TensorFlow's library text ${mem!.groups.find((g) => g.group.startsWith('TensorFlow'))?.mib ?? 0}); malloc arena heaps ${mem!.arenas.count}`);
}, 120_000);

it('carries no build toolchain and no TensorFlow headers, only the libraries the addon loads', async () => {
  const files = await filesOf(id);
  const lib = 'app/node_modules/@tensorflow/tfjs-node/';
  expect(files).toEqual(expect.arrayContaining([`${lib}lib/napi-v8/tfjs_binding.node`, `${lib}deps/lib/libtensorflow_cc.so.2`, `${lib}deps/lib/libtensorflow_framework.so.2`]));
  const toolchain = files.filter((f) => /^(usr\/)?(local\/)?bin\/(g\+\+|gcc|c\+\+|cc|make|python3?[.0-9]*|pip3?|npm|strip)$/.test(f) || /^usr\/lib\/gcc\//.test(f) || f.startsWith(`${lib}deps/include/`) || /^(src|app\/hack)\//.test(f));
  expect(toolchain).toEqual([]);
}, 300_000);

it('drains and exits 0 on SIGTERM', async () => {
  const { code, logs } = await terminate(id);
  expect(logs).toContain('draining');
  expect(logs).toContain('"stopped"');
  expect(code).toBe('0');
}, 360_000);
